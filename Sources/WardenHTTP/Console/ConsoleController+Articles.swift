import Foundation
import Hummingbird
import WardenCore
import WardenEngine
import WardenReview
import WardenStore

/// Knowledge articles in the console: search, the ones waiting for one's acknowledgement, each
/// article rendered with what links to it, and (for those who read quality) who has read it.
extension ConsoleController {
    struct ArticlesView {
        struct Row { var id: String; var title: String; var links: String; var state: String; var pending: Bool }
        var query: String
        var pending: [Row]
        var hasPending: Bool
        var articles: [Row]
        var hasArticles: Bool
    }

    var articles: ArticlesController { ArticlesController(packs: components.packs, store: components.store, clock: components.clock) }

    static func links(_ article: Article) -> String {
        [("categories", article.categories), ("queues", article.queues), ("trees", article.trees), ("macros", article.macros)]
            .filter { !$0.1.isEmpty }.map { "\($0.0): \($0.1.joined(separator: ", "))" }.joined(separator: " · ")
    }

    @Sendable func articlesPage(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        _ = try person(context, needs: .casesRead)
        let query = request.uri.queryParameters.get("q").map { String($0.prefix(200)) } ?? ""
        let state = try await articles.standing(context)
        func row(_ article: Article) -> ArticlesView.Row {
            let pending = state.isFor(article) && state.acknowledged[article.key] == nil
            return .init(id: article.id, title: article.title, links: Self.links(article),
                         state: state.acknowledged[article.key] != nil ? "read" : pending ? "to read" : "", pending: pending)
        }
        let all = components.packs.pack.articles.values.sorted { $0.title < $1.title }
        let pending = all.filter { state.isFor($0) && state.acknowledged[$0.key] == nil }
        let found = query.isEmpty ? all : all.filter { $0.matches(query) }
        let view = ArticlesView(query: query, pending: pending.map(row), hasPending: !pending.isEmpty, articles: found.map(row), hasArticles: !found.isEmpty)
        return render("articles", title: "Articles", path: "/articles", context, body: view)
    }

    struct ArticleView {
        struct Reader { var user: String; var state: String }
        var id: String
        var title: String
        var version: String
        var links: String
        var html: String
        var pending: Bool
        var acknowledged: String
        var seesReaders: Bool
        var readers: [Reader]
        var readersSummary: String
    }

    @Sendable func articlePage(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let user = try person(context, needs: .casesRead)
        let article = try articles.find(context)
        let state = try await articles.standing(context)
        let seesReaders = Scope.qualityRead.isSatisfied(by: user.role.scopes)
        var readers: [ArticleView.Reader] = []
        var summary = ""
        if seesReaders {
            let answer = try await articles.readers(of: article)
            readers = answer.readers.map { .init(user: $0.user, state: $0.acknowledged ? "read on \($0.at?.prefix(10) ?? "")"
                                                                    : $0.previousVersion.map { "read version \($0) only" } ?? "not yet") }
            summary = "\(answer.acknowledged) of \(answer.readers.count) people this article is for have read version \(article.version)."
        }
        let view = ArticleView(id: article.id, title: article.title, version: article.version, links: Self.links(article),
                               html: ArticleMarkdown.html(article.body), pending: state.isFor(article) && state.acknowledged[article.key] == nil,
                               acknowledged: state.acknowledged[article.key].map { "You read this version on \(Self.day($0))." } ?? "",
                               seesReaders: seesReaders, readers: readers, readersSummary: summary)
        return render("article", title: article.title, path: "/articles", context, body: view)
    }

    @Sendable func articleAcknowledge(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        _ = try await post(request, context, needs: .casesRead)
        let article = try articles.find(context)
        _ = try await components.store.acknowledge(article: article.id, version: article.version, user: context.actor, now: components.clock.nowMillis())
        ConsolePage.leaveNotice("Thank you: you have read “\(article.title)” (version \(article.version)).", for: context)
        return ConsolePage.redirect("/articles/\(article.id)")
    }
}
