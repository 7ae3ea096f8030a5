import Foundation
import Hummingbird
import WardenCore
import WardenEngine
import WardenInvestigations
import WardenStore

/// The hash banks page: every bank with its kind, threshold and hashes; matching a hash; a bank's
/// newest hashes with confirm and deconfirm (`banks:write`). The same ``HashBankService`` and
/// scopes as the API.
extension ConsoleController {
    struct BanksView {
        struct Bank { var name: String; var kind: String; var threshold: Int; var negative: Bool; var hashes: Int; var deconfirmed: Int
            var description: String; var selected: Bool }
        struct Entry { var id: Int64; var hash: String; var opinion: String; var tags: String; var contentID: String; var deconfirmed: Bool }
        struct Match { var kind: String; var bank: String; var entry: Int64; var distance: Int; var suppressedBy: String? }
        var banks: [Bank]
        var hasBanks: Bool
        var selected: String?
        var entries: [Entry]
        var hasEntries: Bool
        var canWrite: Bool
        var csrf: String
        var probe: String
        var matched: Bool
        var matches: [Match]
        var probed: Bool
        var verdict: String
    }

    @Sendable func banksPage(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let user = try person(context, needs: .banksRead)
        let query = request.uri.queryParameters
        let selected = query["bank"].map(String.init)
        let probe = query["hash"].map { String($0).trimmingCharacters(in: .whitespaces) } ?? ""
        let service = components.banks
        let banks = try await service.banks()
        var entries: [BankEntry] = []
        if let selected, banks.contains(where: { $0.0.name == selected }) {
            // The newest 50: page back from the end.
            let all = try await service.entries(of: selected)
            entries = Array(all.suffix(50).reversed())
        }
        var matches: [(HashKind, HashMatch)] = []
        var verdict = ""
        if !probe.isEmpty {
            let kinds: [HashKind] = probe.count == 32 ? [.md5] : [.pdq, .sha256]
            var given: [HashKind: String] = [:]
            for kind in kinds { given[kind] = probe }
            do {
                matches = try service.match(given, banks: nil)
                verdict = matches.contains { $0.1.counts } ? "matches" : matches.isEmpty ? "matches no bank" : "allowed by a negative bank"
            } catch {
                verdict = "\(error)"
            }
        }
        let view = BanksView(
            banks: banks.map { bank, total, deconfirmed in
                .init(name: bank.name, kind: bank.kind.rawValue, threshold: bank.threshold, negative: bank.negative, hashes: total, deconfirmed: deconfirmed,
                      description: bank.description, selected: bank.name == selected)
            },
            hasBanks: !banks.isEmpty, selected: selected, entries: entries.map { entry in
                .init(id: entry.id, hash: entry.hash, opinion: entry.opinion.rawValue, tags: entry.tags.joined(separator: ", "), contentID: entry.contentID ?? "",
                      deconfirmed: entry.opinion == .deconfirmed)
            },
            hasEntries: !entries.isEmpty, canWrite: Scope.banksWrite.isSatisfied(by: user.role.scopes), csrf: context.session?.csrfToken ?? "",
            probe: probe, matched: matches.contains { $0.1.counts },
            matches: matches.map { .init(kind: $0.0.rawValue, bank: $0.1.bank, entry: $0.1.entry, distance: $0.1.distance, suppressedBy: $0.1.suppressedBy) },
            probed: !probe.isEmpty, verdict: verdict)
        return render("banks", title: "Hash banks", path: "/banks", context, body: view)
    }

    /// Confirm or deconfirm one hash from the bank's page.
    @Sendable func bankOpinion(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let (_, form) = try await post(request, context, needs: .banksWrite)
        let bank = context.path("bank")
        guard let id = form.text("entry").flatMap({ Int64($0) }) else { throw ConsoleRefusal("choose a hash") }
        let opinion: HashOpinion = form["opinion"] == "deconfirmed" ? .deconfirmed : .confirmed
        do {
            _ = try await components.banks.setOpinion(bank: bank, id: id, opinion: opinion, note: form.text("note"), actor: context.actor)
        } catch let error as HashBankError {
            throw ConsoleRefusal(error.description)
        }
        ConsolePage.leaveNotice(opinion == .deconfirmed ? "Hash \(id) deconfirmed: it no longer matches." : "Hash \(id) confirmed.", for: context)
        return ConsolePage.redirect("/banks?bank=\(bank.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? bank)")
    }
}
