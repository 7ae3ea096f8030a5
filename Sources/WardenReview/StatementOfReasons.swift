import WardenCore
/// A statement of reasons in the shape of the EU DSA Transparency Database's submission API
/// (Article 17 DSA). Built for every decision that restricts something; pure, so it is tested
/// field by field without a database.
public struct StatementOfReasons: Sendable {
    /// An action the decision applied.
    public struct AppliedAction: Sendable, Equatable {
        /// The catalogue entry.
        public var definition: ActionDefinition
        /// Its duration (ms), if limited.
        public var duration: Int64?

        /// Creates an applied action.
        public init(definition: ActionDefinition, duration: Int64?) {
            self.definition = definition
            self.duration = duration
        }
    }

    /// The decision's id (the statement's `puid` is derived from it).
    public var decisionID: Int64
    /// The taxonomy category decided.
    public var category: String
    /// Its DSA statement category (`STATEMENT_CATEGORY_…`), from the taxonomy's mapping.
    public var dsaCategory: String
    /// Its DSA specification keywords (`KEYWORD_…`), from the taxonomy's mapping (may be empty).
    public var keywords: [String]
    /// What was applied.
    public var actions: [AppliedAction]
    /// True when the content is illegal (rather than incompatible with the terms of service).
    public var illegal: Bool
    /// The legal ground (illegal) or the terms-of-service ground (incompatible).
    public var ground: String
    /// Why the content is illegal or incompatible, in words.
    public var explanation: String
    /// The DSA content type.
    public var contentType: String
    /// What the content is, in words, when the type is `CONTENT_TYPE_OTHER` (the database requires it then).
    public var contentTypeOther: String?
    /// Whether detection was automated (a rule or classifier found it).
    public var automatedDetection: Bool
    /// Whether the decision was automated.
    public var automatedDecision: Bool
    /// Where the case came from.
    public var source: CaseSource
    /// When the content was posted or the behaviour happened (ms).
    public var contentDate: Int64
    /// When the decision applied (ms).
    public var applicationDate: Int64
    /// The facts relied on.
    public var facts: String
    /// Countries where the decision applies.
    public var territorialScope: [String]

    /// Creates a statement.
    public init(decisionID: Int64, category: String, dsaCategory: String, keywords: [String] = [], actions: [AppliedAction], illegal: Bool, ground: String,
                explanation: String, contentType: String, contentTypeOther: String? = nil, automatedDetection: Bool, automatedDecision: Bool, source: CaseSource,
                contentDate: Int64, applicationDate: Int64, facts: String, territorialScope: [String]) {
        self.decisionID = decisionID
        self.category = category
        self.dsaCategory = dsaCategory
        self.keywords = keywords
        self.actions = actions
        self.illegal = illegal
        self.ground = ground
        self.explanation = explanation
        self.contentType = contentType
        self.contentTypeOther = contentTypeOther
        self.automatedDetection = automatedDetection
        self.automatedDecision = automatedDecision
        self.source = source
        self.contentDate = contentDate
        self.applicationDate = applicationDate
        self.facts = facts
        self.territorialScope = territorialScope
    }

    /// Whether any applied action restricts anything (only those decisions need a statement).
    public static func isRestrictive(_ actions: [AppliedAction]) -> Bool {
        actions.contains { $0.definition.restriction != nil }
    }

    /// The platform's unique id for the statement.
    public var puid: String { "warden-decision-\(decisionID)" }

    /// The statement as a JSON object, with the Transparency Database's field names and values,
    /// within its limits: free texts are clipped to the database's lengths (ending in "…"), and an
    /// end date after the last date it accepts (2038-01-01) is left out, as for an indefinite
    /// restriction. `TransparencyDatabase.problems` holds every exported statement to its rules.
    public func json() -> [UInt8] {
        var visibility: [String] = []
        var account: String?, monetary: String?, provision: String?
        var ends: [(String, Int64)] = []
        for action in actions {
            guard let restriction = action.definition.restriction else { continue }
            let end = action.duration.map { applicationDate + $0 }.flatMap { Self.date($0) <= TransparencyDatabase.latestDate ? $0 : nil }
            switch restriction {
            case .visibility(let value):
                visibility.append(value)
                if let end { ends.append(("end_date_visibility_restriction", end)) }
            case .account(let value):
                account = value
                if let end { ends.append(("end_date_account_restriction", end)) }
            case .monetary(let value):
                monetary = value
                if let end { ends.append(("end_date_monetary_restriction", end)) }
            case .provision(let value):
                provision = value
                if let end { ends.append(("end_date_service_restriction", end)) }
            }
        }
        var writer = JSONWriter(capacity: 1024)
        writer.beginObject()
        writer.field("puid", puid)
        if !visibility.isEmpty {
            writer.key("decision_visibility")
            writer.beginArray()
            for value in visibility { writer.string(value) }
            writer.endArray()
        }
        if let account { writer.field("decision_account", account) }
        if let monetary { writer.field("decision_monetary", monetary) }
        if let provision { writer.field("decision_provision", provision) }
        for (name, end) in ends { writer.field(name, Self.date(end)) }
        if illegal {
            writer.field("decision_ground", "DECISION_GROUND_ILLEGAL_CONTENT")
            writer.field("illegal_content_legal_ground", TransparencyDatabase.clipped(ground, to: TransparencyDatabase.Limit.ground))
            writer.field("illegal_content_explanation", TransparencyDatabase.clipped(explanation, to: TransparencyDatabase.Limit.explanation))
        } else {
            writer.field("decision_ground", "DECISION_GROUND_INCOMPATIBLE_CONTENT")
            writer.field("incompatible_content_ground", TransparencyDatabase.clipped(ground, to: TransparencyDatabase.Limit.ground))
            writer.field("incompatible_content_explanation", TransparencyDatabase.clipped(explanation, to: TransparencyDatabase.Limit.explanation))
            writer.field("incompatible_content_illegal", "No")
        }
        writer.field("category", dsaCategory)
        if !keywords.isEmpty {
            writer.key("category_specification")
            writer.beginArray()
            for keyword in keywords { writer.string(keyword) }
            writer.endArray()
        }
        writer.key("content_type")
        writer.beginArray()
        writer.string(contentType)
        writer.endArray()
        if contentType == "CONTENT_TYPE_OTHER" {
            writer.field("content_type_other", TransparencyDatabase.clipped(contentTypeOther ?? "other", to: TransparencyDatabase.Limit.other))
        }
        writer.field("automated_detection", automatedDetection ? "Yes" : "No")
        writer.field("automated_decision", automatedDecision ? "AUTOMATED_DECISION_FULLY" : "AUTOMATED_DECISION_NOT_AUTOMATED")
        writer.field("source_type", source == .report ? "SOURCE_ARTICLE_16" : "SOURCE_VOLUNTARY")
        writer.field("content_date", Self.date(contentDate))
        writer.field("application_date", Self.date(applicationDate))
        writer.field("decision_facts", TransparencyDatabase.clipped(facts, to: TransparencyDatabase.Limit.facts))
        writer.key("territorial_scope")
        writer.beginArray()
        for country in territorialScope { writer.string(country) }
        writer.endArray()
        writer.endObject()
        return writer.bytes
    }

    /// `YYYY-MM-DD` (UTC), the Transparency Database's date format.
    static func date(_ millis: Int64) -> String {
        String(Timestamp.formatRFC3339(millis).prefix(10))
    }
}
