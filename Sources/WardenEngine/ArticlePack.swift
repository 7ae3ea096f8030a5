import Crypto
import Foundation
public import WardenReview
import Yams

/// The pack's knowledge articles (`articles/*.md`): Markdown with a front matter naming its title and
/// what it is linked from, each link checked against the pack.
///
///     ---
///     title: Harassment basics
///     categories: [harassment]
///     queues: [harassment]
///     trees: [harassment]
///     macros: [harassment_notice]
///     ---
///     # What counts as bullying …
public enum ArticlePack {
    struct FrontMatter: Decodable {
        var title: String
        var categories: [String]?
        var queues: [String]?
        var trees: [String]?
        var macros: [String]?
    }

    static func load(directory: String, categories: Set<String>, queues: Set<String>, trees: Set<String>, macros: Set<String>,
                     problems: inout [PolicyPackError.Problem]) -> [String: Article] {
        let folder = (directory as NSString).appendingPathComponent("articles")
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".md") }.sorted()
        var articles: [String: Article] = [:]
        for name in files {
            let file = "articles/\(name)"
            let id = String(name.dropLast(3))
            guard id.range(of: "^[a-z0-9][a-z0-9_-]{0,63}$", options: .regularExpression) != nil else {
                problems.append(.init(file: file, message: "an article's file name is lower-case letters, digits, - and _ (at most 64) with .md"))
                continue
            }
            guard let data = FileManager.default.contents(atPath: (folder as NSString).appendingPathComponent(name)) else { continue }
            let text = String(decoding: data, as: UTF8.self)
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            guard lines.first?.trimmingCharacters(in: .whitespaces) == "---",
                  let end = lines.dropFirst().firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == "---" }) else {
                problems.append(.init(file: file, message: "starts with a front matter between --- lines naming at least its title"))
                continue
            }
            let front: FrontMatter
            do {
                front = try YAMLDecoder().decode(FrontMatter.self, from: lines[1..<end].joined(separator: "\n"))
            } catch let error as DecodingError {
                problems.append(.init(decoding: error, file: file))
                continue
            } catch {
                problems.append(.init(file: file, message: "its front matter is not valid YAML: \(error)"))
                continue
            }
            var bad = false
            for (field, values, known) in [("categories", front.categories ?? [], categories), ("queues", front.queues ?? [], queues),
                                           ("trees", front.trees ?? [], trees), ("macros", front.macros ?? [], macros)] {
                for (index, value) in values.enumerated() where !known.contains(value) {
                    problems.append(.init(file: file, path: "\(field)[\(index)]", message: "\(value) is not one of the pack's \(field) (\(known.sorted().joined(separator: ", ")))"))
                    bad = true
                }
            }
            guard !bad else { continue }
            guard !front.title.trimmingCharacters(in: .whitespaces).isEmpty, front.title.count <= 200 else {
                problems.append(.init(file: file, path: "title", message: "is a title of 1 to 200 characters"))
                continue
            }
            let version = SHA256.hash(data: data).prefix(6).map { String(format: "%02x", $0) }.joined()
            articles[id] = Article(id: id, title: front.title, body: lines[(end + 1)...].joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines),
                                   version: version, categories: front.categories ?? [], queues: front.queues ?? [], trees: front.trees ?? [],
                                   macros: front.macros ?? [])
        }
        return articles
    }
}
