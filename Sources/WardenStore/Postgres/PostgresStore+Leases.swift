import PostgresNIO
public import WardenCore

extension PostgresStore: WardenStorage, LeaseStore {
    public var isShared: Bool { true }

    /// One statement: insert the lease, or take it over when it is ours or has expired, all by the
    /// database's clock, so no node's clock decides when another's lease ends. The row lock the
    /// upsert takes makes two nodes asking at once see one answer each.
    public func acquireLease(_ name: String, owner: String, millis: Int64) async throws -> Bool {
        try await !rows("""
            INSERT INTO consumer_lease (name, owner, acquired_at, expires_at)
            SELECT \(name), \(owner), t.now, t.now + \(millis) FROM (SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint AS now) AS t
            ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at,
                acquired_at = CASE WHEN consumer_lease.owner = excluded.owner THEN consumer_lease.acquired_at ELSE excluded.acquired_at END
            WHERE consumer_lease.owner = excluded.owner OR consumer_lease.expires_at < excluded.acquired_at
            RETURNING owner
            """).isEmpty
    }

    public func releaseLease(_ name: String, owner: String) async throws {
        try await rows("DELETE FROM consumer_lease WHERE name = \(name) AND owner = \(owner)")
    }

    public func leases() async throws -> [String: (owner: String, expiresAt: Int64)] {
        var leases: [String: (owner: String, expiresAt: Int64)] = [:]
        for row in try await rows("SELECT name, owner, expires_at FROM consumer_lease ORDER BY name") {
            let (name, owner, expiresAt) = try row.decode((String, String, Int64).self)
            leases[name] = (owner, expiresAt)
        }
        return leases
    }
}
