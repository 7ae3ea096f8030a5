public import WardenCore

/// The EU DSA Transparency Database's rules for a statement of reasons, as its submission API
/// applies them (`POST /api/v1/statement` and `/api/v1/statements`): the enumerations and the
/// field rules of its store request, transcribed from the database's published source
/// (`app/Models/Statement.php`, `app/Http/Requests/StatementStoreRequest.php`, checked 2026-11-30).
/// Pure: `warden rules check` validates a pack's mappings against it, the exporter and the
/// submitter check every statement against it before it leaves.
public enum TransparencyDatabase {
    /// `category` and `category_addition` (the 2025 revision: `STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE`
    /// and `STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT` are gone).
    public static let categories: Set<String> = [
        "STATEMENT_CATEGORY_ANIMAL_WELFARE", "STATEMENT_CATEGORY_CONSUMER_INFORMATION", "STATEMENT_CATEGORY_CYBER_VIOLENCE",
        "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN", "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
        "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH", "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS",
        "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS", "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE",
        "STATEMENT_CATEGORY_OTHER_VIOLATION_TC", "STATEMENT_CATEGORY_PROTECTION_OF_MINORS", "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY",
        "STATEMENT_CATEGORY_SCAMS_AND_FRAUD", "STATEMENT_CATEGORY_SELF_HARM", "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS",
        "STATEMENT_CATEGORY_VIOLENCE",
    ]

    /// Categories the database no longer accepts, with the one to use instead.
    /// (The database's changelog table of July 2025; the last two have no direct successor.)
    public static let retiredCategories: [String: String] = [
        "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE": "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
        "STATEMENT_CATEGORY_UNSAFE_AND_ILLEGAL_PRODUCTS": "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS",
        "STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT": "STATEMENT_CATEGORY_OTHER_VIOLATION_TC (keyword KEYWORD_ADULT_SEXUAL_MATERIAL)",
        "STATEMENT_CATEGORY_NON_CONSENSUAL_BEHAVIOUR":
            "the current category that fits, such as STATEMENT_CATEGORY_CYBER_VIOLENCE with a KEYWORD_NON_CONSENSUAL_… keyword",
    ]

    /// The category a decision gets when its taxonomy category names none.
    public static let defaultCategory = "STATEMENT_CATEGORY_OTHER_VIOLATION_TC"

    /// `category_specification`: the specification keywords.
    public static let keywords: Set<String> = [
        "KEYWORD_ADULT_SEXUAL_MATERIAL", "KEYWORD_AGE_SPECIFIC_RESTRICTIONS", "KEYWORD_AGE_SPECIFIC_RESTRICTIONS_MINORS", "KEYWORD_ANIMAL_HARM",
        "KEYWORD_BIOMETRIC_DATA_BREACH", "KEYWORD_BULLYING_AGAINST_GIRLS", "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL",
        "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE", "KEYWORD_CONTENT_PROMOTING_EATING_DISORDERS", "KEYWORD_COORDINATED_HARM",
        "KEYWORD_COPYRIGHT_INFRINGEMENT", "KEYWORD_CYBER_BULLYING_INTIMIDATION", "KEYWORD_CYBER_HARASSMENT",
        "KEYWORD_CYBER_HARASSMENT_AGAINST_WOMEN", "KEYWORD_CYBER_INCITEMENT", "KEYWORD_CYBER_STALKING", "KEYWORD_CYBER_STALKING_AGAINST_WOMEN",
        "KEYWORD_DATA_FALSIFICATION", "KEYWORD_DEFAMATION", "KEYWORD_DESIGN_INFRINGEMENT", "KEYWORD_DISCRIMINATION",
        "KEYWORD_FEMALE_GENDERED_DISINFORMATION", "KEYWORD_GEOGRAPHIC_INDICATIONS_INFRINGEMENT", "KEYWORD_GEOGRAPHICAL_REQUIREMENTS",
        "KEYWORD_GOODS_SERVICES_NOT_PERMITTED", "KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS", "KEYWORD_HATE_SPEECH",
        "KEYWORD_HIDDEN_ADVERTISEMENT", "KEYWORD_HUMAN_EXPLOITATION", "KEYWORD_HUMAN_TRAFFICKING", "KEYWORD_ILLEGAL_ORGANIZATIONS",
        "KEYWORD_IMPERSONATION_ACCOUNT_HIJACKING", "KEYWORD_INAUTHENTIC_ACCOUNTS", "KEYWORD_INAUTHENTIC_LISTINGS",
        "KEYWORD_INAUTHENTIC_USER_REVIEWS", "KEYWORD_INCITEMENT_AGAINST_WOMEN", "KEYWORD_INCITEMENT_VIOLENCE_HATRED",
        "KEYWORD_INSUFFICIENT_INFORMATION_ON_TRADERS", "KEYWORD_LANGUAGE_REQUIREMENTS", "KEYWORD_MISINFORMATION_DISINFORMATION",
        "KEYWORD_MISLEADING_INFO_CONSUMER_RIGHTS", "KEYWORD_MISLEADING_INFO_GOODS_SERVICES", "KEYWORD_MISSING_PROCESSING_GROUND",
        "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING", "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING_AGAINST_WOMEN", "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE",
        "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE_AGAINST_WOMEN", "KEYWORD_NONCOMPLIANCE_PRICING", "KEYWORD_NUDITY",
        "KEYWORD_PATENT_INFRINGEMENT", "KEYWORD_PHISHING", "KEYWORD_PROHIBITED_PRODUCTS", "KEYWORD_PYRAMID_SCHEMES",
        "KEYWORD_RIGHT_TO_BE_FORGOTTEN", "KEYWORD_RISK_ENVIRONMENTAL_DAMAGE", "KEYWORD_RISK_PUBLIC_HEALTH", "KEYWORD_SELF_MUTILATION",
        "KEYWORD_STALKING", "KEYWORD_SUICIDE", "KEYWORD_TERRORIST_CONTENT", "KEYWORD_TRADE_SECRET_INFRINGEMENT",
        "KEYWORD_TRADEMARK_INFRINGEMENT", "KEYWORD_TRAFFICKING_WOMEN_GIRLS", "KEYWORD_UNLAWFUL_SALE_ANIMALS", "KEYWORD_UNSAFE_CHALLENGES",
        "KEYWORD_UNSAFE_PRODUCTS", "KEYWORD_VIOLATION_EU_LAW", "KEYWORD_VIOLATION_NATIONAL_LAW", "KEYWORD_OTHER",
    ]

    /// `content_type`.
    public static let contentTypes: Set<String> = [
        "CONTENT_TYPE_APP", "CONTENT_TYPE_AUDIO", "CONTENT_TYPE_IMAGE", "CONTENT_TYPE_PRODUCT", "CONTENT_TYPE_SYNTHETIC_MEDIA",
        "CONTENT_TYPE_TEXT", "CONTENT_TYPE_VIDEO", "CONTENT_TYPE_OTHER",
    ]

    /// `decision_visibility` (an array).
    public static let visibilityDecisions: Set<String> = [
        "DECISION_VISIBILITY_CONTENT_REMOVED", "DECISION_VISIBILITY_CONTENT_DISABLED", "DECISION_VISIBILITY_CONTENT_DEMOTED",
        "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED", "DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED",
        "DECISION_VISIBILITY_CONTENT_LABELLED", "DECISION_VISIBILITY_OTHER",
    ]
    /// `decision_monetary`.
    public static let monetaryDecisions: Set<String> = ["DECISION_MONETARY_SUSPENSION", "DECISION_MONETARY_TERMINATION", "DECISION_MONETARY_OTHER"]
    /// `decision_provision`.
    public static let provisionDecisions: Set<String> = [
        "DECISION_PROVISION_PARTIAL_SUSPENSION", "DECISION_PROVISION_TOTAL_SUSPENSION", "DECISION_PROVISION_PARTIAL_TERMINATION",
        "DECISION_PROVISION_TOTAL_TERMINATION",
    ]
    /// `decision_account`.
    public static let accountDecisions: Set<String> = ["DECISION_ACCOUNT_SUSPENDED", "DECISION_ACCOUNT_TERMINATED"]
    /// `decision_ground`.
    public static let decisionGrounds: Set<String> = ["DECISION_GROUND_ILLEGAL_CONTENT", "DECISION_GROUND_INCOMPATIBLE_CONTENT"]
    /// `source_type`.
    public static let sourceTypes: Set<String> = ["SOURCE_ARTICLE_16", "SOURCE_TRUSTED_FLAGGER", "SOURCE_TYPE_OTHER_NOTIFICATION", "SOURCE_VOLUNTARY"]
    /// `automated_decision`.
    public static let automatedDecisions: Set<String> = ["AUTOMATED_DECISION_FULLY", "AUTOMATED_DECISION_PARTIALLY", "AUTOMATED_DECISION_NOT_AUTOMATED"]
    /// `account_type`.
    public static let accountTypes: Set<String> = ["ACCOUNT_TYPE_BUSINESS", "ACCOUNT_TYPE_PRIVATE"]
    /// `territorial_scope`: the EU member states, Iceland, Liechtenstein and Norway.
    public static let countries: Set<String> = Set(EnforcementCatalogue.eea)
    /// The values of the restriction field a `Restriction` fills.
    public static func values(for restriction: Restriction) -> (field: String, allowed: Set<String>) {
        switch restriction {
        case .visibility: ("decision_visibility", visibilityDecisions)
        case .account: ("decision_account", accountDecisions)
        case .monetary: ("decision_monetary", monetaryDecisions)
        case .provision: ("decision_provision", provisionDecisions)
        }
    }

    /// Free-text limits, in characters.
    public enum Limit {
        public static let ground = 500
        public static let explanation = 2000
        public static let facts = 5000
        public static let other = 500
        public static let puid = 500
    }

    /// The most statements the multiple endpoint takes in one call.
    public static let batchLimit = 100
    /// The latest date any date field may hold.
    public static let latestDate = "2038-01-01"

    /// Why a category value is refused, or nil when it is accepted.
    public static func categoryProblem(_ value: String) -> String? {
        if categories.contains(value) { return nil }
        if let replacement = retiredCategories[value] {
            return "\"\(value)\" was retired by the Transparency Database's 2025 category revision; use \(replacement)"
        }
        return "\"\(value)\" is not a Transparency Database statement category (STATEMENT_CATEGORY_…)"
    }

    /// One refused field.
    public struct Problem: Sendable, Equatable, CustomStringConvertible {
        /// The field's name.
        public var field: String
        /// What is wrong, in the database's terms.
        public var message: String

        public init(_ field: String, _ message: String) {
            self.field = field
            self.message = message
        }

        public var description: String { "\(field): \(message)" }
    }

    /// Every rule the database's store request applies to one statement, on the parsed JSON
    /// object: an empty answer means the database would accept it (puid uniqueness aside).
    public static func problems(_ statement: JSONValue) -> [Problem] {
        guard case .object(let fields) = statement else { return [Problem("statement", "must be a JSON object")] }
        var problems: [Problem] = []
        func present(_ name: String) -> Bool {
            switch fields[name] {
            case nil, .null?: false
            case .string(let text)?: !text.allSatisfy { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
            case .array(let items)?: !items.isEmpty
            default: true
            }
        }
        func string(_ name: String) -> String? {
            if case .string(let text)? = fields[name] { return text }
            return nil
        }
        func text(_ name: String, required: Bool, max: Int) {
            guard present(name) else {
                if required { problems.append(Problem(name, "is required")) }
                return
            }
            guard let value = string(name) else { return problems.append(Problem(name, "must be a string")) }
            if value.unicodeScalars.count > max { problems.append(Problem(name, "must not be greater than \(max) characters")) }
        }
        func one(_ name: String, of allowed: Set<String>, required: Bool) {
            guard present(name) else {
                if required { problems.append(Problem(name, "is required")) }
                return
            }
            guard let value = string(name), allowed.contains(value) else {
                return problems.append(Problem(name, "the selected value is invalid"))
            }
        }
        func many(_ name: String, of allowed: Set<String>, required: Bool) {
            guard present(name) else {
                if required { problems.append(Problem(name, "is required")) }
                return
            }
            guard case .array(let items)? = fields[name] else { return problems.append(Problem(name, "must be an array")) }
            for item in items {
                guard case .string(let value) = item, allowed.contains(value) else {
                    return problems.append(Problem(name, "the selected value is invalid"))
                }
            }
        }
        func date(_ name: String, required: Bool, earliest: String?) {
            guard present(name) else {
                if required { problems.append(Problem(name, "is required")) }
                return
            }
            guard let value = string(name), isDate(value) else {
                return problems.append(Problem(name, "does not match the format YYYY-MM-DD"))
            }
            if let earliest, value < earliest { problems.append(Problem(name, "must be a date after or equal to \(earliest)")) }
            if value > latestDate { problems.append(Problem(name, "must be a date before or equal to \(latestDate)")) }
        }

        let restrictions = ["decision_visibility", "decision_monetary", "decision_provision", "decision_account"]
        if !restrictions.contains(where: present) {
            problems.append(Problem("decision_visibility", "is required when none of decision_monetary, decision_provision, decision_account is present"))
        }
        many("decision_visibility", of: visibilityDecisions, required: false)
        if case .array(let items)? = fields["decision_visibility"], items.contains(.string("DECISION_VISIBILITY_OTHER")) {
            text("decision_visibility_other", required: true, max: Limit.other)
        }
        one("decision_monetary", of: monetaryDecisions, required: false)
        if string("decision_monetary") == "DECISION_MONETARY_OTHER" { text("decision_monetary_other", required: true, max: Limit.other) }
        one("decision_provision", of: provisionDecisions, required: false)
        one("decision_account", of: accountDecisions, required: false)
        one("account_type", of: accountTypes, required: false)
        many("category_specification", of: keywords, required: false)
        text("category_specification_other", required: false, max: Limit.other)

        one("decision_ground", of: decisionGrounds, required: true)
        switch string("decision_ground") {
        case "DECISION_GROUND_ILLEGAL_CONTENT":
            text("illegal_content_legal_ground", required: true, max: Limit.ground)
            text("illegal_content_explanation", required: true, max: Limit.explanation)
        case "DECISION_GROUND_INCOMPATIBLE_CONTENT":
            text("incompatible_content_ground", required: true, max: Limit.ground)
            text("incompatible_content_explanation", required: true, max: Limit.explanation)
            one("incompatible_content_illegal", of: ["Yes", "No"], required: false)
        default:
            break
        }
        text("decision_ground_reference_url", required: false, max: Limit.other)

        many("content_type", of: contentTypes, required: true)
        if case .array(let items)? = fields["content_type"], items.contains(.string("CONTENT_TYPE_OTHER")) {
            text("content_type_other", required: true, max: Limit.other)
        }
        if let value = string("category"), let problem = categoryProblem(value) {
            problems.append(Problem("category", problem))
        } else {
            one("category", of: categories, required: true)
        }
        many("category_addition", of: categories, required: false)
        many("territorial_scope", of: countries, required: false)

        date("content_date", required: true, earliest: "2000-01-01")
        date("application_date", required: true, earliest: "2020-01-01")
        for name in ["end_date_account_restriction", "end_date_monetary_restriction", "end_date_service_restriction", "end_date_visibility_restriction"] {
            date(name, required: false, earliest: nil)
        }
        text("decision_facts", required: true, max: Limit.facts)
        one("source_type", of: sourceTypes, required: true)
        if string("source_type") != "SOURCE_VOLUNTARY" { text("source_identity", required: false, max: Limit.other) }
        one("automated_detection", of: ["Yes", "No"], required: true)
        one("automated_decision", of: automatedDecisions, required: true)
        text("puid", required: true, max: Limit.puid)
        if let puid = string("puid"), !isPUID(puid) { problems.append(Problem("puid", "the puid format is invalid")) }
        return problems
    }

    /// `^[a-zA-Z0-9-_]+$`.
    public static func isPUID(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x2D || byte == 0x5F
        }
    }

    /// `YYYY-MM-DD`, a real calendar date.
    static func isDate(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 10, bytes[4] == 0x2D, bytes[7] == 0x2D else { return false }
        let digits = [0, 1, 2, 3, 5, 6, 8, 9]
        guard digits.allSatisfy({ bytes[$0] >= 0x30 && bytes[$0] <= 0x39 }) else { return false }
        func number(_ range: Range<Int>) -> Int { range.reduce(0) { $0 * 10 + Int(bytes[$1] - 0x30) } }
        let year = number(0..<4), month = number(5..<7), day = number(8..<10)
        guard (1...12).contains(month), day >= 1 else { return false }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        return day <= days
    }

    /// Text cut to at most `limit` characters, ending in an ellipsis when cut.
    public static func clipped(_ text: String, to limit: Int) -> String {
        let scalars = text.unicodeScalars
        guard scalars.count > limit else { return text }
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars.prefix(limit - 1))
        view.append("…")
        return String(view)
    }
}

extension TransparencyDatabase {
    /// What a reply of the multiple endpoint (`POST /api/v1/statements`) means for the batch sent.
    /// The database takes a batch whole or not at all: on a refusal, nothing was created.
    public enum Reply: Sendable, Equatable {
        /// 201: every statement was created; the database's uuid per puid (when the reply names it).
        case created([String: String])
        /// 422 naming puids the database already holds (`errors.existing_puids`): those were
        /// submitted before; the rest of the batch is to be sent again without them.
        case alreadyPresent(Set<String>)
        /// 422 naming statements by position (`errors.statement_N`): those are refused, with the
        /// database's reasons; the rest is to be sent again without them.
        case refused([Int: String])
        /// 408, 429 or 5xx: send the same batch again later (after `retryAfter` ms when the reply says).
        case retry(reason: String, retryAfter: Int64?)
        /// Anything else (401 for a bad token, 403, other 4xx): stop and tell the operator.
        case fatal(String)
    }

    /// Reads a reply of the multiple endpoint. `puids` are the batch's, in the order sent.
    public static func reply(status: Int, body: JSONValue?, retryAfterSeconds: Int64?, puids: [String]) -> Reply {
        switch status {
        case 200, 201:
            var uuids: [String: String] = [:]
            if case .array(let created)? = body?["statements"] {
                for item in created {
                    if case .string(let puid)? = item["puid"], case .string(let uuid)? = item["uuid"] { uuids[puid] = uuid }
                }
            }
            return .created(uuids)
        case 422:
            let errors = body?["errors"]
            if case .array(let existing)? = errors?["existing_puids"] {
                let named = Set(existing.compactMap { item -> String? in if case .string(let puid) = item { puid } else { nil } })
                let known = named.intersection(puids)
                if !known.isEmpty { return .alreadyPresent(known) }
                // Duplicates inside the batch itself are ours to fix, not the database's.
                return .fatal("the database refused the batch: puids repeated within it (\(named.sorted().joined(separator: ", ")))")
            }
            if case .object(let byStatement)? = errors {
                var refused: [Int: String] = [:]
                for (key, fields) in byStatement where key.hasPrefix("statement_") {
                    guard let index = Int(key.dropFirst("statement_".count)), puids.indices.contains(index) else { continue }
                    var reasons: [String] = []
                    if case .object(let messages) = fields {
                        for (field, list) in messages.sorted(by: { $0.key < $1.key }) {
                            if case .array(let texts) = list {
                                for case .string(let text) in texts { reasons.append("\(field): \(text)") }
                            }
                        }
                    }
                    refused[index] = reasons.isEmpty ? "refused" : reasons.joined(separator: "; ")
                }
                if !refused.isEmpty { return .refused(refused) }
            }
            let message: String = if case .string(let text)? = body?["message"] { text } else { "unprocessable" }
            return .fatal("the database refused the batch (422): \(message)")
        case 408, 429, 500...599:
            return .retry(reason: "HTTP \(status)", retryAfter: retryAfterSeconds.map { max(0, $0) * 1000 })
        case 401:
            return .fatal("the database refused the token (401): generate a new one in the database's user profile")
        default:
            return .fatal("the database answered HTTP \(status)")
        }
    }
}
