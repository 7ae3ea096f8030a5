/// What a person may do, as a set of scopes (the same scopes API tokens carry), so one permission
/// check serves people and machines. The matrix of routes × roles is in docs/permissions.md and a
/// test holds the two together.
public enum Role: String, Sendable, Codable, CaseIterable {
    /// Everything, including users and tokens.
    case admin
    /// Runs review: everything a reviewer does, plus reversals, reporter muting, dead letters, exports, incidents.
    case lead
    /// Detection and investigation: events, entities, signals, rules (and changing them), cases (read-only), exports, incidents.
    case analyst
    /// Works queues: claims, decides, escalates.
    case reviewer
    /// A contractor reviewer: only assigned queues, with personal data (emails, IPs, phones) masked.
    case vendorReviewer = "vendor_reviewer"
    /// Reads everything including the audit log; changes nothing.
    case auditor

    /// The scopes the role holds.
    public var scopes: Set<Scope> {
        switch self {
        case .admin: [.admin]
        case .lead: [.read, .casesRead, .casesReview, .casesLead, .exportsRead, .incidentsRead, .incidentsWrite, .queryRead, .queryWrite, .banksRead, .banksWrite, .bulkRead, .bulkWrite, .qualityRead, .qualityReview, .qualityWrite]
        case .analyst: [.read, .casesRead, .exportsRead, .rulesWrite, .incidentsRead, .incidentsWrite, .queryRead, .queryWrite, .banksRead, .banksWrite, .bulkRead, .bulkWrite, .qualityRead]
        case .reviewer: [.casesRead, .casesReview, .incidentsRead, .qualityReview]
        case .vendorReviewer: [.casesRead, .casesReview]
        case .auditor: [.read, .casesRead, .exportsRead, .auditRead, .incidentsRead, .queryRead, .banksRead, .bulkRead, .qualityRead]
        }
    }

    /// Whether the role only sees the queues assigned to the person.
    public var isLimitedToAssignedQueues: Bool { self == .vendorReviewer }

    /// Whether personal data is masked for the role.
    public var seesMaskedPersonalData: Bool { self == .vendorReviewer }
}
