import Foundation
import Hummingbird
import Synchronization
import WardenCore
import WardenReview
import WardenRules
import WardenStore

/// What every page shows around its content: who is signed in, the navigation their role opens,
/// the form token, and a notice left by the previous request.
struct Chrome {
    struct NavItem {
        var href: String
        var label: String
        var current: Bool
    }

    var title: String
    var signedIn: Bool
    var user: String
    var role: String
    var csrf: String?
    var nav: [NavItem]
    var notice: String?
    var error: String?
    var packName: String
    var packVersion: String
    var idleSeconds: Int64
}

/// A page: the chrome and the template's own view.
struct Page<Body> {
    var chrome: Chrome
    var body: Body
}

enum ConsolePage {
    /// Notices left for a session's next page (after a redirect), by session.
    static let notices = Mutex<[[UInt8]: String]>([:])

    static func leaveNotice(_ notice: String, for context: WardenRequestContext) {
        guard let session = context.session else { return }
        notices.withLock { notices in
            if notices.count > 10_000 { notices.removeAll() }
            notices[session.idHash] = notice
        }
    }

    static func takeNotice(for context: WardenRequestContext) -> String? {
        guard let session = context.session else { return nil }
        return notices.withLock { $0.removeValue(forKey: session.idHash) }
    }

    /// The chrome for `context` on the page at `path`.
    static func chrome(_ title: String, path: String, context: WardenRequestContext, pack: (name: String, version: String), idleMillis: Int64,
                       error: String? = nil) -> Chrome {
        var nav: [Chrome.NavItem] = []
        if let user = context.user {
            let scopes = user.role.scopes
            nav.append(.init(href: "/", label: "Home", current: path == "/"))
            if Scope.casesRead.isSatisfied(by: scopes) {
                nav.append(.init(href: "/queues", label: "Queues", current: path.hasPrefix("/queues")))
                nav.append(.init(href: "/search", label: "Search", current: path.hasPrefix("/search")))
            }
            if Scope.casesLead.isSatisfied(by: scopes) { nav.append(.init(href: "/lead", label: "Team", current: path.hasPrefix("/lead"))) }
            if Scope.incidentsRead.isSatisfied(by: scopes) {
                nav.append(.init(href: "/incidents", label: "Incidents", current: path.hasPrefix("/incidents") || path.hasPrefix("/oncall")))
            }
            if Scope.read.isSatisfied(by: scopes) {
                nav.append(.init(href: "/dashboards", label: "Dashboards", current: path.hasPrefix("/dashboards")))
                nav.append(.init(href: "/rules", label: "Rules", current: path.hasPrefix("/rules")))
                nav.append(.init(href: "/clusters", label: "Clusters", current: path.hasPrefix("/clusters")))
            }
            if Scope.queryRead.isSatisfied(by: scopes) { nav.append(.init(href: "/query", label: "Query", current: path.hasPrefix("/query"))) }
            if Scope.banksRead.isSatisfied(by: scopes) { nav.append(.init(href: "/banks", label: "Banks", current: path.hasPrefix("/banks"))) }
            if Scope.bulkRead.isSatisfied(by: scopes) { nav.append(.init(href: "/bulk", label: "Bulk", current: path.hasPrefix("/bulk"))) }
            if Scope.qualityRead.isSatisfied(by: scopes) { nav.append(.init(href: "/quality", label: "Quality", current: path.hasPrefix("/quality"))) }
            if [Scope.qualityRead, .qualityReview, .casesReview].contains(where: { $0.isSatisfied(by: scopes) }) {
                nav.append(.init(href: "/qa", label: "QA", current: path.hasPrefix("/qa")))
            }
            if Scope.casesRead.isSatisfied(by: scopes) {
                nav.append(.init(href: "/calibration", label: "Calibration", current: path.hasPrefix("/calibration")))
                nav.append(.init(href: "/articles", label: "Articles", current: path.hasPrefix("/articles")))
            }
            if Scope.auditRead.isSatisfied(by: scopes) { nav.append(.init(href: "/audit", label: "Audit", current: path.hasPrefix("/audit"))) }
        }
        return Chrome(title: title, signedIn: context.user != nil, user: context.user?.name ?? "", role: context.user?.role.rawValue ?? "",
                      csrf: context.session?.csrfToken, nav: nav, notice: takeNotice(for: context), error: error, packName: pack.name,
                      packVersion: pack.version, idleSeconds: idleMillis / 1000)
    }

    /// An HTML response.
    static func html(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// A redirect after a form (303: the browser follows with GET).
    static func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }

    /// A CSV download of `rows` (fields quoted where RFC 4180 needs it, lines ended by CRLF) named `filename`.
    static func csv(_ rows: [[String]], filename: String) -> Response {
        csv(text: rows.map { $0.map(CSV.field).joined(separator: ",") }.joined(separator: "\r\n") + "\r\n", filename: filename)
    }

    /// A CSV download of text already in CSV.
    static func csv(text: String, filename: String) -> Response {
        Response(status: .ok, headers: [.contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"\(filename)\""],
                 body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// The error page.
    static func error(status: HTTPResponse.Status, title: String, detail: String, context: WardenRequestContext) -> Response {
        struct Body { var title: String; var detail: String }
        let chrome = Chrome(title: title, signedIn: context.user != nil, user: context.user?.name ?? "", role: context.user?.role.rawValue ?? "",
                            csrf: context.session?.csrfToken, nav: context.user == nil ? [] : [.init(href: "/", label: "Home", current: false)],
                            notice: nil, error: nil, packName: "", packVersion: "", idleSeconds: 0)
        return html(ConsoleTemplates.render("error", Page(chrome: chrome, body: Body(title: title, detail: detail))), status: status)
    }

    /// Percent-escapes a query value.
    static func queryEscape(_ text: String) -> String {
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: "&=+?#")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }

    /// A duration in words for the console ("3 h 12 min", "45 s").
    static func age(_ millis: Int64) -> String {
        let seconds = max(0, millis / 1000)
        if seconds < 60 { return "\(seconds) s" }
        if seconds < 3600 { return "\(seconds / 60) min" }
        if seconds < 86_400 { return "\(seconds / 3600) h \(seconds % 3600 / 60) min" }
        return "\(seconds / 86_400) d \(seconds % 86_400 / 3600) h"
    }
}

/// An event as a page shows it: when, what, its text (the `data.text` most events carry) and its
/// JSON, with personal data masked for people who may not see it.
struct EventView {
    var seq: Int64
    var at: String
    var type: String
    var text: String?
    var body: String
    /// The pack's built-in classifiers' scores for the text ("sms-spam: spam 0.97"), when any.
    var scores: [String] = []

    init(_ event: StoredEvent, masked: Bool, scorers: [String: any TextScorer] = [:]) {
        let mask = { (text: String) in masked ? PersonalData.mask(text: text) : text }
        seq = event.seq
        at = Timestamp.formatRFC3339(event.occurredAt)
        type = event.type
        let raw = JSONValue.parse(event.body).flatMap { $0["data"]?["text"]?.consoleString ?? $0["text"]?.consoleString }
        text = raw.map(mask)
        body = mask(String(decoding: event.body, as: UTF8.self))
        if let raw {
            scores = scorers.sorted { $0.key < $1.key }.map { name, scorer in
                let top = scorer.scores(of: raw).sorted { $0.value > $1.value }.prefix(2)
                return name + ": " + top.map { "\($0.key) " + String(format: "%.2f", $0.value) }.joined(separator: ", ")
            }
        }
    }
}
