import Foundation
import Testing
import WardenCore
import WardenStore
@testable import WardenEngine

@Suite struct UserAccountsTests {
    let store: SQLiteStore
    let clock = TestClock()
    let accounts: UserAccounts

    init() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("warden-users-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        store = try SQLiteStore(path: directory.appendingPathComponent("warden.sqlite").path)
        accounts = UserAccounts(store: store, clock: clock, cost: 4, idleMillis: 30 * 60_000,
                                throttle: .init(accountFailures: 3, addressFailures: 10, windowMillis: 60_000, lockoutMillis: 600_000))
    }

    /// A session unused for longer than the idle timeout ends; use within it keeps it alive.
    @Test func idleSessionsEnd() async throws {
        _ = try await accounts.add(name: "ana", role: .reviewer, password: "a long enough password", actor: "test")
        let (secret, _, _) = try await accounts.login(name: "ana", password: "a long enough password")
        clock.advance(29 * 60_000)
        #expect(try await accounts.session(secret: secret) != nil)
        clock.advance(29 * 60_000)
        #expect(try await accounts.session(secret: secret) != nil, "used 29 minutes ago: still alive")
        clock.advance(31 * 60_000)
        #expect(try await accounts.session(secret: secret) == nil, "31 minutes unused: ended")
        clock.advance(1)
        #expect(try await accounts.session(secret: secret) == nil, "and gone for good")
    }

    /// Wrong passwords lock the account out (audited once, with the address); even the right one
    /// is refused until the lock-out ends.
    @Test func lockOutsAreEnforcedAndAudited() async throws {
        _ = try await accounts.add(name: "ana", role: .reviewer, password: "a long enough password", actor: "test")
        for attempt in 1...3 {
            await #expect(throws: attempt < 3 ? UserAccounts.Refusal.invalid : .lockedOut(until: clock.nowMillis() + 600_000, retryAfter: 600)) {
                try await accounts.login(name: "ana", password: "wrong password!", address: "192.0.2.7")
            }
        }
        await #expect(throws: UserAccounts.Refusal.self) { try await accounts.login(name: "ana", password: "a long enough password") }
        let locked = try await store.auditEntries(after: 0, limit: 100).filter { $0.action == "sign_in.locked" }
        #expect(locked.count == 1 && locked[0].target == "user:ana" && locked[0].detail.contains("192.0.2.7"))
        clock.advance(600_001)
        _ = try await accounts.login(name: "ana", password: "a long enough password")
    }

    /// The first admin's link: made only on an empty data directory, works once, then a password can be set.
    @Test func firstAdminLinkWorksOnce() async throws {
        let link = try #require(try await accounts.firstAdminLink())
        #expect(try await accounts.firstAdminLink() == nil, "people exist now: no second first admin")
        let signedIn = try #require(try await accounts.redeem(link: link))
        #expect(signedIn.user.name == "admin" && signedIn.user.role == .admin)
        #expect(try await accounts.redeem(link: link) == nil, "a link works once")
        #expect(try await accounts.setPassword("admin", password: "the admin's own password", keepingSession: signedIn.secret, actor: ActorRef(.user, "admin")))
        #expect(try await accounts.session(secret: signedIn.secret) != nil, "the session that set the password stays")
        _ = try await accounts.login(name: "admin", password: "the admin's own password")
        let expired = try await accounts.signInLink(for: "admin")
        clock.advance(24 * 3_600_000 + 1)
        #expect(try await accounts.redeem(link: expired) == nil, "links expire after a day")
        #expect(throws: UserAccounts.Invalid.self) { try UserAccounts.checkPassword("short") }
    }

    /// Setting a password ends the user's other sessions.
    @Test func aNewPasswordEndsOtherSessions() async throws {
        _ = try await accounts.add(name: "ana", role: .reviewer, password: "a long enough password", actor: "test")
        let first = try await accounts.login(name: "ana", password: "a long enough password")
        let second = try await accounts.login(name: "ana", password: "a long enough password")
        _ = try await accounts.setPassword("ana", password: "another long password", keepingSession: second.secret, actor: ActorRef(.user, "ana"))
        #expect(try await accounts.session(secret: first.secret) == nil)
        #expect(try await accounts.session(secret: second.secret) != nil)
    }
}
