import Crypto
import Foundation
public import WardenReview
public import WardenCore
public import WardenRules
import Yams

/// A policy pack: a folder versioned as a whole. This build reads `pack.yaml` (name, extra entity
/// types), `taxonomy.yaml` (severities and categories), `rules/*.rules` with the `lists/` they
/// name, `tests/*.yaml` (rule tests), and the optional `classifiers.yaml`, `queues.yaml` and
/// `enforcement.yaml`; loading reports every problem at once.
public struct PolicyPack: Sendable {
    /// The pack's name.
    public var name: String
    /// The folder it was loaded from.
    public var directory: String
    /// A version derived from the content of every file in the pack.
    public var version: String
    /// Registered entity types (built-in plus the pack's).
    public var entityTypes: EntityTypes
    /// The policy taxonomy.
    public var taxonomy: Taxonomy
    /// The checked rules.
    public var rules: RuleSet
    /// The rule tests.
    public var ruleTests: [RuleTest]
    /// The classifiers declared in `classifiers.yaml` (none when the file is absent).
    public var classifiers = ClassifierDeclarations()
    /// Queues, routing, SLA policies and the enforcement catalogue (`queues.yaml`, `enforcement.yaml`).
    public var review = ReviewPack.minimal
    /// Incidents, alerts and on-call (`incidents.yaml`, `alerts.yaml`, `oncall.yaml`).
    public var incidents = IncidentPack.minimal
    /// Hash banks the pack declares (`banks.yaml`), with their seed hashes.
    public var banks = BankPack()
    /// Saved queries (and derived tables) the pack declares (`queries.yaml`).
    public var queries = QueryPack()
    /// The QA error taxonomy and accuracy target (`quality.yaml`).
    public var quality = QualityPack()
    /// Knowledge articles (`articles/*.md`), by id.
    public var articles: [String: Article] = [:]
    /// The `data` fields full-text search indexes (paths such as `text` or `profile.bio`).
    public var searchFields: [[String]] = [["text"]]

    /// The event schema the pack implies.
    public var eventSchema: EventSchema {
        EventSchema(entityTypes: entityTypes, reportReasons: taxonomy.categoryIDs)
    }

    private struct Manifest: Decodable {
        var name: String
        var description: String?
        var entityTypes: [String]?
        var searchFields: [String]?

        enum CodingKeys: String, CodingKey {
            case name, description
            case entityTypes = "entity_types"
            case searchFields = "search_fields"
        }
    }

    /// Loads and validates the pack in `directory`.
    public static func load(from directory: String) throws(PolicyPackError) -> PolicyPack {
        var problems: [PolicyPackError.Problem] = []
        let manifest: Manifest? = decode("pack.yaml", in: directory, problems: &problems)
        let taxonomy: Taxonomy? = decode("taxonomy.yaml", in: directory, problems: &problems)

        var entityTypes = EntityTypes()
        if let manifest {
            for (index, name) in (manifest.entityTypes ?? []).enumerated() where !EntityTypes.isWellFormed(name) {
                problems.append(.init(file: "pack.yaml", path: "entity_types[\(index)]",
                                      message: "\"\(name)\" is not a valid entity type: use lower-case letters, digits and _"))
            }
            entityTypes = EntityTypes(additional: manifest.entityTypes ?? [])
            for (index, field) in (manifest.searchFields ?? []).enumerated() {
                let parts = field.split(separator: ".", omittingEmptySubsequences: false)
                if field.isEmpty || parts.contains(where: { $0.isEmpty || !$0.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" } }) {
                    problems.append(.init(file: "pack.yaml", path: "search_fields[\(index)]",
                                          message: "\"\(field)\" is not a field path inside data: words joined by dots, such as text or profile.bio"))
                }
            }
        }
        if let taxonomy {
            for problem in taxonomy.problems() {
                problems.append(.init(file: "taxonomy.yaml", path: problem.path, message: problem.message))
            }
            // The DSA mapping, checked against the Transparency Database's current enumerations.
            for (index, category) in taxonomy.categories.enumerated() {
                if let value = category.dsaCategory, let message = TransparencyDatabase.categoryProblem(value) {
                    problems.append(.init(file: "taxonomy.yaml", path: "categories[\(index)].dsa_category", message: message))
                }
                for (position, keyword) in (category.dsaKeywords ?? []).enumerated() where !TransparencyDatabase.keywords.contains(keyword) {
                    problems.append(.init(file: "taxonomy.yaml", path: "categories[\(index)].dsa_keywords[\(position)]",
                                          message: "\"\(keyword)\" is not a Transparency Database specification keyword (KEYWORD_…)"))
                }
            }
        }
        let classifiers = ClassifierDeclarations.load(directory: directory, categories: taxonomy?.categoryIDs ?? [], problems: &problems)
        var rules: RuleSet?
        if let taxonomy {
            let files = sourceFiles(in: directory, folder: "rules", extension: "rules")
            do {
                rules = try compileRules(files, directory: directory, taxonomy: taxonomy, entityTypes: entityTypes, classifiers: classifiers)
            } catch {
                problems += error.problems
            }
        }
        var tests: [RuleTest] = []
        for (file, source) in sourceFiles(in: directory, folder: "tests", extension: "yaml") {
            do {
                tests += try RuleTest.load(source, file: file, classifiers: Set(classifiers.classifiers.map(\.name)),
                                           categories: taxonomy?.categoryIDs ?? [])
            } catch {
                problems.append(error)
            }
        }
        if let rules {
            let names = Set(rules.rules.map(\.name))
            for test in tests {
                for name in test.fires + test.doesNotFire where !names.contains(name) {
                    problems.append(.init(file: test.file, path: test.name, message: "names rule \(name), which the pack does not have"))
                }
            }
        }
        let review = ReviewPack.load(directory: directory, taxonomy: taxonomy, rules: rules, problems: &problems)
        let incidents = IncidentPack.load(directory: directory, queues: Set(review.configuration.queues.keys), macros: Set(review.macros.keys),
                                          problems: &problems)
        let banks = BankPack.load(directory: directory, problems: &problems)
        let queries = QueryPack.load(directory: directory, problems: &problems)
        let quality = QualityPack.load(directory: directory, queues: Set(review.configuration.queues.keys), problems: &problems)
        let articles = ArticlePack.load(directory: directory, categories: taxonomy?.categoryIDs ?? [], queues: Set(review.configuration.queues.keys),
                                        trees: Set(review.trees.keys), macros: Set(review.macros.keys), problems: &problems)
        guard problems.isEmpty, let manifest, let taxonomy, let rules else {
            throw PolicyPackError(directory: directory, problems: problems)
        }
        return PolicyPack(name: manifest.name, directory: directory, version: digest(of: directory),
                          entityTypes: entityTypes, taxonomy: taxonomy, rules: rules, ruleTests: tests, classifiers: classifiers, review: review,
                          incidents: incidents, banks: banks, queries: queries, quality: quality, articles: articles,
                          searchFields: (manifest.searchFields ?? ["text"]).map { $0.split(separator: ".").map(String.init) })
    }

    /// Compiles rule files against a taxonomy, entity types and classifiers (lists read from `directory`).
    static func compileRules(_ files: [(name: String, source: String)], directory: String, taxonomy: Taxonomy, entityTypes: EntityTypes,
                             classifiers: ClassifierDeclarations) throws(PolicyPackError) -> RuleSet {
        let base = directory
        var context = RuleContext(categories: taxonomy.categoryIDs, severities: taxonomy.severities, entityTypes: entityTypes) { path in
            guard !path.contains(".."), let data = FileManager.default.contents(atPath: (base as NSString).appendingPathComponent(path)) else { return nil }
            return String(data: data, encoding: .utf8)
        }
        context.classifiers = Dictionary(classifiers.classifiers.map { ($0.name, $0.builtin != nil) }, uniquingKeysWith: { first, _ in first })
        do {
            return try RuleSet.compile(files: files, context: context)
        } catch {
            throw PolicyPackError(directory: directory, problems: error.diagnostics.map {
                .init(file: $0.location.file, line: $0.location.line, column: $0.location.column, message: $0.message)
            })
        }
    }

    /// The pack's rules as they would compile with `file`'s text replaced by `text` (the rule
    /// editor's check): the rule set, or every problem with its file, line and column.
    public func compileRules(replacing file: String, with text: String) throws(PolicyPackError) -> RuleSet {
        var files = Self.sourceFiles(in: directory, folder: "rules", extension: "rules")
        if let index = files.firstIndex(where: { $0.name == file }) { files[index].source = text } else { files.append((file, text)) }
        return try Self.compileRules(files, directory: directory, taxonomy: taxonomy, entityTypes: entityTypes, classifiers: classifiers)
    }

    /// The files `folder/*.ext` of the pack, by relative path, sorted.
    static func sourceFiles(in directory: String, folder: String, extension fileExtension: String) -> [(name: String, source: String)] {
        let path = (directory as NSString).appendingPathComponent(folder)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.filter { $0.hasSuffix(".\(fileExtension)") }.sorted().compactMap { name in
            guard let data = FileManager.default.contents(atPath: (path as NSString).appendingPathComponent(name)),
                  let text = String(data: data, encoding: .utf8) else { return nil }
            return ("\(folder)/\(name)", text)
        }
    }

    private static func decode<T: Decodable>(_ file: String, in directory: String, problems: inout [PolicyPackError.Problem]) -> T? {
        let path = (directory as NSString).appendingPathComponent(file)
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            problems.append(.init(file: file, message: "is missing or not UTF-8 text; every pack needs \(file)"))
            return nil
        }
        do {
            return try YAMLDecoder().decode(T.self, from: text)
        } catch let error as DecodingError {
            problems.append(.init(decoding: error, file: file))
        } catch {
            problems.append(.init(file: file, message: "is not valid YAML: \(error)"))
        }
        return nil
    }

    /// The version the pack in `directory` has now (to notice edits without loading it).
    public static func currentVersion(of directory: String) -> String {
        digest(of: directory)
    }

    /// SHA-256 over every regular file's relative path and content, in path order; 12 hex digits.
    private static func digest(of directory: String) -> String {
        var hasher = SHA256()
        let base = URL(fileURLWithPath: directory)
        let files = (FileManager.default.enumerator(atPath: directory)?.allObjects as? [String] ?? []).sorted()
        for file in files {
            let url = base.appendingPathComponent(file)
            guard (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true,
                  let content = FileManager.default.contents(atPath: url.path) else { continue }
            hasher.update(data: Data(file.utf8))
            hasher.update(data: Data([0]))
            hasher.update(data: content)
        }
        return String(Array(hasher.finalize()).hexString.prefix(12))
    }
}

/// Every problem found while loading a policy pack.
public struct PolicyPackError: Error, CustomStringConvertible {
    /// One problem, located by file and, where known, line, column or field path.
    public struct Problem: Error, Sendable, CustomStringConvertible {
        /// File name within the pack.
        public var file: String
        /// 1-based line, when known.
        public var line: Int?
        /// 1-based column, when known.
        public var column: Int?
        /// Field path within the file, when known.
        public var path: String?
        /// What is wrong and what to do.
        public var message: String

        /// Creates a problem.
        public init(file: String, line: Int? = nil, column: Int? = nil, path: String? = nil, message: String) {
            self.file = file
            self.line = line
            self.column = column
            self.path = path
            self.message = message
        }

        init(decoding error: DecodingError, file: String) {
            self.init(file: file, path: error.fieldPath, message: error.problem)
        }

        public var description: String {
            var location = file
            if let line { location += ":\(line)" + (column.map { ":\($0)" } ?? "") }
            if let path, !path.isEmpty { location += " \(path)" }
            return "\(location): \(message)"
        }
    }

    /// The pack's folder.
    public var directory: String
    /// All problems, in file order.
    public var problems: [Problem]

    public var description: String {
        "policy pack \(directory) has \(problems.count) problem\(problems.count == 1 ? "" : "s"):\n"
            + problems.map { "  \($0)" }.joined(separator: "\n")
    }
}
