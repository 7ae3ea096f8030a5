public import WardenCore
public import WardenInvestigations

/// Bulk jobs and their items. The store keeps them and applies changes atomically with their
/// audit entries; what a job may do and when is the engine's business.
public protocol BulkStore: Sendable {
    /// Stores a new job with one pending item per entity, audited; the job comes back with its id.
    func createBulkJob(_ job: BulkJob, entities: [EntityRef], audit: AuditDraft) async throws -> BulkJob
    func bulkJob(id: Int64) async throws -> BulkJob?
    /// Jobs newest first, before `before` (an id) when given.
    func bulkJobs(before: Int64?, limit: Int) async throws -> [BulkJob]
    /// Jobs in a state the runner works on (queued, running, reversing), oldest first.
    func activeBulkJobs() async throws -> [BulkJob]
    /// Saves `job` if it is still in `expecting` (a compare-and-set on the state), with `audit`
    /// when given; false when it has moved on.
    func updateBulkJob(_ job: BulkJob, expecting: BulkState, audit: AuditDraft?) async throws -> Bool
    /// A job's items from `index` on, in order, optionally only those in `state`.
    func bulkItems(job: Int64, from index: Int, limit: Int, state: BulkItem.State?) async throws -> [BulkItem]
    /// Records items' outcomes with the job's progress (cursor and counts, never its state) in one
    /// transaction — also when the job was cancelled meanwhile, so what the chunk did can be
    /// reversed; false when the job is no longer in `expecting`.
    func recordBulkItems(_ items: [BulkItem], job: BulkJob, expecting: BulkState) async throws -> Bool
    /// The cases the job's case steps have joined so far, by subject (signals of rule `bulk:<job>`
    /// the case builder has merged).
    func bulkCases(job: Int64) async throws -> [EntityRef: Int64]
}
