/// The policy taxonomy: the categories of harm a policy pack knows, used for report reasons,
/// rule categories, decisions and the DSA category mapping.
public struct Taxonomy: Sendable, Codable, Equatable {
    /// One category, such as `harassment.bullying`. A dotted id names its parent (`harassment`).
    public struct Category: Sendable, Codable, Equatable {
        /// Stable dotted id.
        public var id: String
        /// Human name.
        public var name: String
        /// What belongs here, for reviewers and reporters.
        public var description: String?
        /// The EU DSA Transparency Database category this maps to (`STATEMENT_CATEGORY_…`).
        public var dsaCategory: String?
        /// The database's specification keywords for it (`KEYWORD_…`), sent as `category_specification`.
        public var dsaKeywords: [String]?

        enum CodingKeys: String, CodingKey {
            case id, name, description
            case dsaCategory = "dsa_category"
            case dsaKeywords = "dsa_keywords"
        }

        /// Creates a category.
        public init(id: String, name: String, description: String? = nil, dsaCategory: String? = nil, dsaKeywords: [String]? = nil) {
            self.id = id
            self.name = name
            self.description = description
            self.dsaCategory = dsaCategory
            self.dsaKeywords = dsaKeywords
        }
    }

    /// The severity levels, lowest first.
    public var severities: [String]
    /// All categories, parents before children.
    public var categories: [Category]

    /// Creates a taxonomy.
    public init(severities: [String], categories: [Category]) {
        self.severities = severities
        self.categories = categories
    }

    /// The category ids, which are the valid report reasons.
    public var categoryIDs: Set<String> { Set(categories.map(\.id)) }

    /// Every problem with the taxonomy, described by the path of the offending entry.
    public func problems() -> [(path: String, message: String)] {
        var problems: [(String, String)] = []
        var seen = Set<String>()
        if severities.isEmpty { problems.append(("severities", "list at least one severity, lowest first")) }
        for (index, category) in categories.enumerated() {
            let path = "categories[\(index)]"
            let parts = category.id.split(separator: ".", omittingEmptySubsequences: false)
            if !parts.allSatisfy({ EntityTypes.isWellFormed(String($0)) }) {
                problems.append(("\(path).id", "\"\(category.id)\" must be lower-case words joined by dots"))
            }
            if !seen.insert(category.id).inserted {
                problems.append(("\(path).id", "\"\(category.id)\" is defined twice"))
            }
            if parts.count > 1 {
                let parent = parts.dropLast().joined(separator: ".")
                if !seen.contains(parent) {
                    problems.append(("\(path).id", "parent category \"\(parent)\" must be defined before \"\(category.id)\""))
                }
            }
            if category.name.isEmpty { problems.append(("\(path).name", "must not be empty")) }
        }
        return problems
    }
}
