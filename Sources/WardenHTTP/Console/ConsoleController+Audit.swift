import Foundation
import Hummingbird
import WardenCore
import WardenEngine
import WardenStore

/// The audit page: the log, newest first, filtered, and the chain's verification on request.
extension ConsoleController {
    struct AuditView {
        struct Entry { var seq: Int64; var at: String; var actor: String; var action: String; var target: String; var detail: String }
        var entries: [Entry]
        var actor: String
        var action: String
        var target: String
        var older: String?
        var chainIntact: Bool
        var chainStatus: String
    }

    @Sendable func audit(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        _ = try person(context, needs: .auditRead)
        let query = request.uri.queryParameters
        func filter(_ name: String, max: Int) throws -> String? {
            guard let value = query[Substring(name)].map({ String($0) })?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
            guard value.count <= max else { throw ConsoleRefusal("the \(name) filter is longer than \(max) characters") }
            return value
        }
        let actor = try filter("actor", max: 200), action = try filter("action", max: 100), target = try filter("target", max: 200)
        let before = query["before"].flatMap { Int64(String($0)) }
        let entries = try await components.store.auditEntries(before: before, actor: actor, action: action, target: target, limit: 100)
        var older: String?
        if entries.count == 100, let last = entries.last {
            older = "/audit?before=\(last.seq)" + [("actor", actor), ("action", action), ("target", target)].compactMap { name, value in
                value.map { "&\(name)=\(ConsolePage.queryEscape($0))" }
            }.joined()
        }
        var intact = true
        var status = "The chain is checked on request: follow \u{201C}Verify the chain\u{201D}."
        if query["verify"] == "1" {
            let result = try await AuditVerification.verify(components.store, digest: SQLiteStore.auditDigest)
            intact = result.intact
            status = result.failure.map { "The chain is BROKEN: \($0) (\(result.checked) entries before it verified)." }
                ?? "The chain is intact: \(result.checked) entries verified, head \(result.head.hexString.prefix(16))…"
        }
        let view = AuditView(entries: entries.map { .init(seq: $0.seq, at: Timestamp.formatRFC3339($0.at), actor: $0.actor, action: $0.action,
                                                            target: $0.target, detail: $0.detail) },
                             actor: actor ?? "", action: action ?? "", target: target ?? "", older: older, chainIntact: intact, chainStatus: status)
        return render("audit", title: "Audit log", path: "/audit", context, body: view)
    }
}
