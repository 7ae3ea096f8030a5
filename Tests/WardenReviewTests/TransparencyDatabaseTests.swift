import Testing
import WardenCore
@testable import WardenReview

/// The Transparency Database's store rules, one row per rule: the database's own documented
/// example passes, and each change breaks exactly the field the database would name.
@Suite struct TransparencyDatabaseTests {
    /// The example payload of the database's API documentation (`resources/markdown/api-documentation.md`).
    static let example = """
        {"decision_visibility":["DECISION_VISIBILITY_CONTENT_DISABLED"],"decision_monetary":"DECISION_MONETARY_TERMINATION",
         "end_date_monetary_restriction":"2023-08-08","decision_provision":"DECISION_PROVISION_TOTAL_SUSPENSION",
         "decision_account":"DECISION_ACCOUNT_SUSPENDED","account_type":"ACCOUNT_TYPE_BUSINESS",
         "decision_ground":"DECISION_GROUND_INCOMPATIBLE_CONTENT","decision_ground_reference_url":"https://www.anurl.com",
         "content_type":["CONTENT_TYPE_VIDEO","CONTENT_TYPE_AUDIO","CONTENT_TYPE_SYNTHETIC_MEDIA"],
         "category":"STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN","illegal_content_legal_ground":"illegal content legal grounds",
         "illegal_content_explanation":"illegal content explanation","incompatible_content_ground":"incompatible content grounds",
         "incompatible_content_explanation":"incompatible content explanation","incompatible_content_illegal":"Yes",
         "territorial_scope":["PT","ES","DE"],"content_language":"EN","content_date":"2023-08-08","content_id":{"EAN-13":"0123456789123"},
         "application_date":"2023-08-08","decision_facts":"facts about the decision","source_type":"SOURCE_TRUSTED_FLAGGER",
         "automated_detection":"No","automated_decision":"AUTOMATED_DECISION_PARTIALLY","puid":"TK421"}
        """

    static func statement(_ change: (inout [String: JSONValue]) -> Void) -> JSONValue {
        guard case .object(var fields)? = JSONValue.parse(Array(example.utf8)) else { fatalError("example does not parse") }
        change(&fields)
        return .object(fields)
    }

    @Test func theDocumentedExamplePasses() {
        #expect(TransparencyDatabase.problems(Self.statement { _ in }) == [])
    }

    /// A change to the example: members set (nil: removed).
    typealias Change = [(String, JSONValue?)]

    @Test(arguments: [
        // what changes, the members changed, the field refused
        ("category retired in 2025", [("category", .string("STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE"))], "category"),
        ("category missing", [("category", nil)], "category"),
        ("keyword unknown", [("category_specification", .array([.string("spam")]))], "category_specification"),
        ("no restriction at all", [("decision_visibility", nil), ("decision_monetary", nil), ("decision_provision", nil), ("decision_account", nil)],
         "decision_visibility"),
        ("visibility value", [("decision_visibility", .array([.string("DECISION_VISIBILITY_HIDDEN")]))], "decision_visibility"),
        ("visibility other without text", [("decision_visibility", .array([.string("DECISION_VISIBILITY_OTHER")]))], "decision_visibility_other"),
        ("monetary other without text", [("decision_monetary", .string("DECISION_MONETARY_OTHER"))], "decision_monetary_other"),
        ("account value", [("decision_account", .string("DECISION_ACCOUNT_BANNED"))], "decision_account"),
        ("ground missing", [("decision_ground", nil)], "decision_ground"),
        ("illegal without legal ground", [("decision_ground", .string("DECISION_GROUND_ILLEGAL_CONTENT")), ("illegal_content_legal_ground", .string("  "))],
         "illegal_content_legal_ground"),
        ("incompatible explanation too long", [("incompatible_content_explanation", .string(String(repeating: "x", count: 2001)))],
         "incompatible_content_explanation"),
        ("incompatible ground too long", [("incompatible_content_ground", .string(String(repeating: "ü", count: 501)))], "incompatible_content_ground"),
        ("incompatible_content_illegal", [("incompatible_content_illegal", .string("yes"))], "incompatible_content_illegal"),
        ("content type empty", [("content_type", .array([]))], "content_type"),
        ("content type other without text", [("content_type", .array([.string("CONTENT_TYPE_OTHER")]))], "content_type_other"),
        ("country outside the EEA", [("territorial_scope", .array([.string("GB")]))], "territorial_scope"),
        ("content date format", [("content_date", .string("2023-8-8"))], "content_date"),
        ("content date not a date", [("content_date", .string("2023-02-30"))], "content_date"),
        ("content date too early", [("content_date", .string("1999-12-31"))], "content_date"),
        ("application date too early", [("application_date", .string("2019-12-31"))], "application_date"),
        ("end date too late", [("end_date_account_restriction", .string("2038-01-02"))], "end_date_account_restriction"),
        ("facts missing", [("decision_facts", .string(""))], "decision_facts"),
        ("facts too long", [("decision_facts", .string(String(repeating: "x", count: 5001)))], "decision_facts"),
        ("source type", [("source_type", .string("SOURCE_USER"))], "source_type"),
        ("automated detection", [("automated_detection", .bool(true))], "automated_detection"),
        ("automated decision", [("automated_decision", .string("AUTOMATED_DECISION_NONE"))], "automated_decision"),
        ("puid characters", [("puid", .string("decision:12"))], "puid"),
        ("puid missing", [("puid", nil)], "puid"),
    ] as [(String, Change, String)])
    func eachRuleNamesItsField(name: String, change: Change, field: String) {
        let problems = TransparencyDatabase.problems(Self.statement { fields in
            for (member, value) in change { fields[member] = value }
        })
        #expect(problems.map(\.field) == [field], "\(name): \(problems)")
    }

    @Test func limitsAreAtTheEdge() {
        // Exactly at each limit passes; the database counts characters, not bytes.
        let statement = Self.statement { f in
            f["incompatible_content_explanation"] = .string(String(repeating: "é", count: 2000))
            f["decision_facts"] = .string(String(repeating: "x", count: 5000))
            f["end_date_visibility_restriction"] = .string("2038-01-01")
            f["content_date"] = .string("2000-01-01")
            f["application_date"] = .string("2024-02-29")
        }
        #expect(TransparencyDatabase.problems(statement) == [])
    }

    @Test func retiredCategoriesSayWhatToUseInstead() {
        #expect(TransparencyDatabase.categoryProblem("STATEMENT_CATEGORY_OTHER_VIOLATION_TC") == nil)
        #expect(TransparencyDatabase.categoryProblem("STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE")?.contains("use STATEMENT_CATEGORY_OTHER_VIOLATION_TC") == true)
        #expect(TransparencyDatabase.categoryProblem("SPAM")?.contains("not a Transparency Database statement category") == true)
        #expect(TransparencyDatabase.categoryProblem("STATEMENT_CATEGORY_UNSAFE_AND_ILLEGAL_PRODUCTS")?
            .contains("use STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS") == true)
        // Every retired value is refused, and every suggested replacement is itself accepted.
        for (retired, replacement) in TransparencyDatabase.retiredCategories {
            #expect(!TransparencyDatabase.categories.contains(retired))
            let named = replacement.split(separator: " ").map(String.init).filter { $0.hasPrefix("STATEMENT_CATEGORY_") }
            #expect(named.allSatisfy(TransparencyDatabase.categories.contains), "\(retired) → \(replacement)")
        }
    }

    @Test func clippingCountsCharacters() {
        #expect(TransparencyDatabase.clipped("abc", to: 3) == "abc")
        #expect(TransparencyDatabase.clipped("abcd", to: 3) == "ab…")
        #expect(TransparencyDatabase.clipped("éééé", to: 3).unicodeScalars.count == 3)
    }

    /// The multiple endpoint's replies, as its source and documentation give them.
    @Test(arguments: [
        (201, #"{"statements":[{"puid":"a","uuid":"u-a"},{"puid":"b","uuid":"u-b"}]}"#, Int64?.none,
         TransparencyDatabase.Reply.created(["a": "u-a", "b": "u-b"])),
        (422, #"{"message":"The platform identifier(s) are not all unique within this call.","errors":{"puid":["…"],"existing_puids":["b","zz"]}}"#, nil,
         .alreadyPresent(["b"])),
        (422, #"{"errors":{"existing_puids":["zz"]}}"#, nil,
         .fatal("the database refused the batch: puids repeated within it (zz)")),
        (422, #"{"errors":{"statement_1":{"decision_ground":["The selected decision ground is invalid."],"category":["The category field is required."]}}}"#, nil,
         .refused([1: "category: The category field is required.; decision_ground: The selected decision ground is invalid."])),
        (422, #"{"message":"The statements field must have between 1 and 100 items."}"#, nil,
         .fatal("the database refused the batch (422): The statements field must have between 1 and 100 items.")),
        (429, "", 7, .retry(reason: "HTTP 429", retryAfter: 7000)),
        (503, "oops", nil, .retry(reason: "HTTP 503", retryAfter: nil)),
        (401, #"{"message":"Unauthenticated."}"#, nil,
         .fatal("the database refused the token (401): generate a new one in the database's user profile")),
        (404, "", nil, .fatal("the database answered HTTP 404")),
    ])
    func repliesOfTheMultipleEndpoint(status: Int, body: String, retryAfter: Int64?, expected: TransparencyDatabase.Reply) {
        let reply = TransparencyDatabase.reply(status: status, body: JSONValue.parse(Array(body.utf8)), retryAfterSeconds: retryAfter, puids: ["a", "b"])
        #expect(reply == expected)
    }
}
