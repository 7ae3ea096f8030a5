import Foundation
import HTTPTypes
import Hummingbird
import WardenCore
import WardenEngine
import WardenReview
import WardenStore

/// The web console: server-rendered pages for reviewers, leads, analysts, vendor reviewers and
/// auditors, over the same services and the same access rules as the API (``ReviewController``'s
/// queue checks, role scopes, masking for vendor reviewers). Every change is a form post carrying
/// the session's CSRF token; every page carries the security headers of ``ConsoleMiddleware``.
struct ConsoleController {
    let components: WardenComponents
    let api: ReviewController

    var review: ReviewService { components.review }
    var users: UserAccounts? { components.users }
    var idleMillis: Int64 { users?.idleMillis ?? 0 }

    func addRoutes(to router: Router<WardenRequestContext>) {
        let group = router.group().add(middleware: ConsoleMiddleware(users: users))
        group.get("/assets/console.css") { _, _ in Self.asset(ConsoleTemplates.css, type: "text/css; charset=utf-8") }
        group.get("/assets/console.js") { _, _ in Self.asset(ConsoleTemplates.script, type: "text/javascript; charset=utf-8") }
        group.get("/assets/icon.svg") { _, _ in Self.asset(Array(Self.icon.utf8), type: "image/svg+xml") }
        group.get("/favicon.ico") { _, _ in Self.asset(Array(Self.icon.utf8), type: "image/svg+xml") }
        group.get("/login", use: loginPage)
        group.post("/login", use: login)
        group.post("/logout", use: logout)
        group.get("/signin/{secret}", use: linkPage)
        group.post("/signin/{secret}", use: redeemLink)
        group.get("/account", use: account)
        group.post("/account/password", use: setPassword)
        group.get("/", use: home)
        group.get("/queues", use: queues)
        group.get("/queues/{queue}", use: queue)
        group.post("/queues/{queue}/next", use: claimNext)
        group.get("/cases/{id}", use: showCase)
        group.post("/cases/{id}/decide", use: decide)
        group.post("/cases/{id}/preview", use: preview)
        group.post("/cases/{id}/reveal", use: reveal)
        for verb in ["claim", "release", "hold", "resume", "renew", "handoff", "consult", "comment", "escalate"] {
            group.post("/cases/{id}/\(verb)") { request, context in try await change(verb, request, context) }
        }
        group.post("/consults/{id}/answer", use: answerConsult)
        group.get("/audit", use: audit)
        group.get("/search", use: search)
        group.get("/lead", use: lead)
        group.get("/dashboards", use: dashboards)
        group.get("/rules", use: rules)
        group.get("/rules/{name}", use: rule)
        group.post("/rules/{name}/check", use: checkRule)
        group.post("/rules/{name}/trial", use: trialRule)
        group.post("/rules/{name}/save", use: saveRule)
        group.get("/dashboards/{name}", use: dashboardCSV)
        group.post("/cases/bulk", use: bulk)
        group.post("/outbox/redrive", use: redrive)
        group.get("/entities/{type}/{id}", use: entity)
        group.get("/clusters", use: clustersPage)
        group.get("/quality", use: qualityPage)
        group.get("/quality/{name}", use: qualityCSV)
        group.get("/qa", use: qaPage)
        group.get("/qa/accuracy.csv", use: qaAccuracyCSV)
        group.post("/qa/next", use: qaNext)
        group.post("/qa/audits", use: qaDraw)
        group.get("/qa/audits/{id}", use: qaAuditPage)
        group.get("/qa/items/{id}", use: qaItemPage)
        group.post("/qa/items/{id}/{action}", use: qaItemAction)
        group.get("/calibration", use: calibrationPage)
        for action in ["training", "sessions", "golden", "revoke"] { group.post("/calibration/\(action)", use: calibrationAction) }
        group.post("/calibration/golden/{id}/retire", use: goldenRetire)
        group.get("/calibration/sessions/{id}", use: sessionPage)
        group.get("/calibration/sessions/{id}/ratings.csv", use: sessionRatingsCSV)
        group.post("/calibration/sessions/{id}/{action}", use: sessionAction)
        group.get("/articles", use: articlesPage)
        group.get("/articles/{name}", use: articlePage)
        group.post("/articles/{name}/acknowledge", use: articleAcknowledge)
        group.get("/banks", use: banksPage)
        group.post("/banks/{bank}/opinion", use: bankOpinion)
        group.get("/bulk", use: bulkPage)
        group.post("/bulk/preview", use: bulkPreview)
        group.post("/bulk/start", use: bulkStart)
        group.post("/bulk/{id}/{move}", use: bulkMove)
        group.get("/query", use: queryPage)
        group.post("/query", use: queryAction)
        group.get("/incidents", use: incidentsPage)
        group.post("/incidents", use: openIncident)
        group.get("/incidents/{id}", use: incidentPage)
        group.get("/incidents/{id}/review.md", use: incidentReviewFile)
        group.post("/incidents/{id}/{action}", use: incidentAction)
        group.post("/alerts/{id}/{action}", use: alertAction)
        group.post("/cases/{id}/incident", use: caseIncident)
        group.get("/oncall", use: onCallPage)
        group.post("/oncall/overrides", use: onCallOverride)
    }

    static let icon = ##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#111a2b"/>"##
        + ##"<path d="M6 9l4 14 6-10 6 10 4-14" fill="none" stroke="#ffbf47" stroke-width="3" stroke-linejoin="round"/></svg>"##

    static func asset(_ bytes: [UInt8], type: String) -> Response {
        Response(status: .ok, headers: [.contentType: type, .cacheControl: "public, max-age=300"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    // MARK: Helpers

    func render<Body>(_ template: String, title: String, path: String, _ context: WardenRequestContext, body: Body,
                      status: HTTPResponse.Status = .ok, error: String? = nil) -> Response {
        let pack = components.packs.pack
        let chrome = ConsolePage.chrome(title, path: path, context: context, pack: (pack.name, pack.version), idleMillis: idleMillis, error: error)
        return ConsolePage.html(ConsoleTemplates.render(template, Page(chrome: chrome, body: body)), status: status)
    }

    /// The signed-in person, or a trip to the sign-in page.
    func person(_ context: WardenRequestContext) throws -> UserRecord {
        guard let user = context.user, context.session != nil else { throw ConsoleSignInRequired() }
        return user
    }

    /// The person, who must hold `scope`.
    func person(_ context: WardenRequestContext, needs scope: Scope) throws -> UserRecord {
        let user = try person(context)
        guard scope.isSatisfied(by: user.role.scopes) else {
            throw Problem(.forbidden, "forbidden", title: "Not allowed", detail: "this page needs the \(scope.rawValue) scope, which the \(user.role.rawValue) role does not have")
        }
        return user
    }

    /// A signed-in form post: the person and the form, its CSRF token checked.
    func post(_ request: Request, _ context: WardenRequestContext, needs scope: Scope) async throws -> (UserRecord, ConsoleForm) {
        let user = try person(context, needs: scope)
        guard let session = context.session else { throw ConsoleSignInRequired() }
        return (user, try await ConsoleForm.read(request, csrf: session.csrfToken))
    }

    /// The sign-in form's token: a random value in a short-lived cookie that the form echoes
    /// (double submit), so another site cannot sign a browser in to an account of its choosing.
    static let loginCookie = "warden_login"

    static func loginToken(_ request: Request) -> (token: String, cookie: String?) {
        if let existing = request.cookies[loginCookie]?.value, existing.count == 32 { return (existing, nil) }
        var generator = SystemRandomNumberGenerator()
        let token = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }.hexString
        return (token, "\(loginCookie)=\(token); Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=3600")
    }

    func checkLoginToken(_ request: Request) async throws -> ConsoleForm {
        guard let expected = request.cookies[Self.loginCookie]?.value, !expected.isEmpty else {
            throw Problem(.forbidden, "csrf", title: "The form has expired", detail: "reload the sign-in page and try again (cookies must be on)")
        }
        return try await ConsoleForm.read(request, csrf: expected)
    }

    /// Where to go after signing in: a path on this site only.
    static func safeNext(_ next: String?) -> String {
        guard let next, next.hasPrefix("/"), !next.hasPrefix("//"), !next.contains("\\") else { return "/" }
        return next
    }

    func signedIn(_ signedIn: (secret: String, session: SessionRecord, user: UserRecord), to location: String) -> Response {
        var response = ConsolePage.redirect(location)
        response.headers.append(HTTPField(name: .setCookie, value: Authenticator.sessionCookie(signedIn.secret, maxAge: (signedIn.session.expiresAt - signedIn.session.createdAt) / 1000)))
        response.headers.append(HTTPField(name: .setCookie, value: "\(Self.loginCookie)=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0"))
        return response
    }

    // MARK: Sign-in

    struct LoginView { var loginToken: String; var next: String; var name: String }

    @Sendable func loginPage(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        if context.user != nil { return ConsolePage.redirect("/") }
        let (token, cookie) = Self.loginToken(request)
        let next = Self.safeNext(request.uri.queryParameters["next"].map(String.init))
        var response = render("login", title: "Sign in", path: "/login", context, body: LoginView(loginToken: token, next: next, name: ""))
        if let cookie { response.headers[.setCookie] = cookie }
        return response
    }

    @Sendable func login(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        guard let users else { throw Problem(.serviceUnavailable, "no-accounts", title: "No user accounts", detail: "this server only takes API tokens") }
        let form = try await checkLoginToken(request)
        let name = form.text("name") ?? ""
        let next = Self.safeNext(form["next"])
        do {
            guard name.count <= 100, (form["password"] ?? "").count <= 1000 else { throw UserAccounts.Refusal.invalid }
            let result = try await users.login(name: name, password: form["password"] ?? "", address: context.remoteAddress)
            return signedIn(result, to: next)
        } catch let refusal as UserAccounts.Refusal {
            let problem = Problem(refusal)
            let token = request.cookies[Self.loginCookie]?.value ?? ""
            var response = render("login", title: "Sign in", path: "/login", context, body: LoginView(loginToken: token, next: next, name: String(name.prefix(100))),
                                  status: problem.status, error: "\(problem.title): \(problem.detail)")
            for field in problem.headers where field.name == .retryAfter { response.headers.append(field) }
            return response
        }
    }

    @Sendable func logout(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        guard let session = context.session else { return ConsolePage.redirect("/login") }
        _ = try await ConsoleForm.read(request, csrf: session.csrfToken)
        if let users, let secret = request.cookies[Authenticator.cookie]?.value { try await users.logout(secret: secret) }
        var response = ConsolePage.redirect("/login")
        response.headers[.setCookie] = Authenticator.sessionCookie("", maxAge: 0)
        return response
    }

    struct LinkView { var secret: String; var loginToken: String }

    @Sendable func linkPage(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let secret = context.path("secret")
        guard secret.count <= 100, secret.allSatisfy(\.isHexDigit) else { throw Problem.notFound("this sign-in link is not valid") }
        let (token, cookie) = Self.loginToken(request)
        var response = render("signin-link", title: "One-time sign-in", path: "/signin", context, body: LinkView(secret: secret, loginToken: token))
        if let cookie { response.headers[.setCookie] = cookie }
        return response
    }

    @Sendable func redeemLink(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        guard let users else { throw Problem(.serviceUnavailable, "no-accounts", title: "No user accounts", detail: "this server only takes API tokens") }
        _ = try await checkLoginToken(request)
        guard let result = try await users.redeem(link: context.path("secret")) else {
            throw Problem(.notFound, "not-found", title: "Link not valid",
                          detail: "this sign-in link was used already, has expired, or never existed; ask an admin for a new one (warden users link)")
        }
        return signedIn(result, to: "/account")
    }

    struct AccountView { var name: String; var role: String; var queues: String; var teams: String }

    @Sendable func account(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let user = try person(context)
        return render("account", title: "Account", path: "/account", context,
                      body: AccountView(name: user.name, role: user.role.rawValue, queues: user.queues.joined(separator: ", "), teams: user.teams.joined(separator: ", ")))
    }

    @Sendable func setPassword(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let user = try person(context)
        guard let users, let session = context.session else { throw ConsoleSignInRequired() }
        let form = try await ConsoleForm.read(request, csrf: session.csrfToken)
        let password = form["password"] ?? ""
        guard password == form["again"] else { throw ConsoleRefusal("the two passwords differ") }
        do {
            _ = try await users.setPassword(user.name, password: password, keepingSession: request.cookies[Authenticator.cookie]?.value, actor: context.actor)
        } catch let invalid as UserAccounts.Invalid {
            throw ConsoleRefusal(invalid.description)
        }
        ConsolePage.leaveNotice("Password set. Your other sessions have ended.", for: context)
        return ConsolePage.redirect("/account")
    }
}
