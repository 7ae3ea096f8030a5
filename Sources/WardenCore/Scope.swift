/// What a machine client's API token may do. `admin` includes every other scope.
public enum Scope: String, Sendable, Codable, CaseIterable {
    /// Submit events (`POST /v1/events`).
    case eventsWrite = "events:write"
    /// Submit user reports (`POST /v1/reports`).
    case reportsWrite = "reports:write"
    /// Read events, entities and configuration.
    case read
    /// See queues and cases (with their timeline and decisions).
    case casesRead = "cases:read"
    /// Claim, work and decide cases.
    case casesReview = "cases:review"
    /// Lead work: reverse actions, mute reporters, redrive the outbox.
    case casesLead = "cases:lead"
    /// Open appeals on a user's behalf (the product's appeal form).
    case appealsWrite = "appeals:write"
    /// Export statements of reasons.
    case exportsRead = "exports:read"
    /// Read the audit log.
    case auditRead = "audit:read"
    /// Change the policy pack's rules: edit, try and activate them (the console's rule editor).
    case rulesWrite = "rules:write"
    /// See incidents, alerts, pages and who is on call.
    case incidentsRead = "incidents:read"
    /// Run incidents: open and change them, act on alerts, set on-call overrides.
    case incidentsWrite = "incidents:write"
    /// Run read-only SQL over the investigation views and saved queries (`POST /v1/query`).
    case queryRead = "query:read"
    /// Keep the team's saved queries: save, change and delete them.
    case queryWrite = "query:write"
    /// See hash banks and their hashes, export them, and match hashes against them.
    case banksRead = "banks:read"
    /// Keep hash banks: create and change banks, add and import hashes, confirm and deconfirm them.
    case banksWrite = "banks:write"
    /// See bulk jobs, their progress and what they did to each entity.
    case bulkRead = "bulk:read"
    /// Preview, start, cancel and reverse bulk jobs (approving a large one takes `cases:lead`).
    case bulkWrite = "bulk:write"
    /// See quality reports: operational health, per reviewer, team, queue and policy.
    case qualityRead = "quality:read"
    /// Re-review sampled decisions in the QA queue (blind), and dispute findings on one's own decisions.
    case qualityReview = "quality:review"
    /// Run QA: draw audits and rule on disputes.
    case qualityWrite = "quality:write"
    /// Everything, including managing tokens.
    case admin

    /// Whether a token holding `granted` may act under `self`.
    public func isSatisfied(by granted: some Sequence<Scope>) -> Bool {
        granted.contains { $0 == self || $0 == .admin }
    }
}
