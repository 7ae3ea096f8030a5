import Foundation
import Hummingbird
import WardenCore
import WardenEngine
import WardenReview
import WardenStore

/// A knowledge article as the API shows it, with whether the caller acknowledged this version.
struct ArticleResponse: ResponseEncodable {
    var id: String
    var title: String
    var version: String
    var categories: [String]
    var queues: [String]
    var trees: [String]
    var macros: [String]
    /// Whether the caller is asked to read it (they may work one of its queues).
    var forYou: Bool
    var acknowledged: Bool
    var acknowledgedAt: String?
    var body: String?

    init(_ article: Article, forYou: Bool, acknowledgedAt: Int64?, withBody: Bool) {
        id = article.id
        title = article.title
        version = article.version
        categories = article.categories
        queues = article.queues
        trees = article.trees
        macros = article.macros
        self.forYou = forYou
        acknowledged = acknowledgedAt != nil
        self.acknowledgedAt = acknowledgedAt.map(Timestamp.formatRFC3339)
        body = withBody ? article.body : nil
    }
}

struct ArticleList: ResponseEncodable { var articles: [ArticleResponse] }

struct ArticleReadersResponse: ResponseEncodable {
    struct Reader: Encodable {
        var user: String
        var acknowledged: Bool
        var at: String?
        /// The latest earlier version they acknowledged, if not this one.
        var previousVersion: String?
    }
    var article: String
    var version: String
    var acknowledged: Int
    var readers: [Reader]
}

/// Knowledge articles over HTTP: the pack's articles, searchable; acknowledgements of each version;
/// who of the people an article is for has read it.
struct ArticlesController {
    let packs: PackManager
    let store: any ArticleStore & UserStore
    let clock: any WallClock

    func addRoutes(to routes: RouteTable) {
        routes.add(.get, "/v1/articles", scope: .casesRead) { request, context in
            let query = RequestInput(request: request, limit: 0)
            let q = try query.string("q")
            let queue = try query.string("queue")
            let category = try query.string("category")
            let state = try await standing(context)
            let articles = packs.pack.articles.values
                .filter { article in
                    (q.map(article.matches) ?? true) && (queue.map { article.queues.contains($0) } ?? true)
                        && (category.map { article.applies(category: $0, queue: nil) } ?? true)
                }
                .sorted { $0.title < $1.title }
            return ArticleList(articles: articles.map { ArticleResponse($0, forYou: state.isFor($0), acknowledgedAt: state.acknowledged[$0.key], withBody: false) })
        }
        routes.add(.get, "/v1/articles/{name}", scope: .casesRead) { _, context in
            let article = try find(context)
            let state = try await standing(context)
            return ArticleResponse(article, forYou: state.isFor(article), acknowledgedAt: state.acknowledged[article.key], withBody: true)
        }
        routes.add(.post, "/v1/articles/{name}/acknowledge", scope: .casesRead) { _, context in
            let article = try find(context)
            guard context.actor.kind == .user else {
                throw Problem(.forbidden, "forbidden", title: "Not allowed", detail: "a person acknowledges an article (sign in); an API token cannot")
            }
            let ack = try await store.acknowledge(article: article.id, version: article.version, user: context.actor, now: clock.nowMillis())
            let state = try await standing(context)
            return ArticleResponse(article, forYou: state.isFor(article), acknowledgedAt: ack.at, withBody: false)
        }
        routes.add(.get, "/v1/articles/{name}/acknowledgements", scope: .qualityRead) { _, context in
            try await readers(of: try find(context))
        }
    }

    func find(_ context: WardenRequestContext) throws -> Article {
        let name = context.path("name")
        guard let article = packs.pack.articles[name] else {
            throw Problem.notFound("there is no article \(name.prefix(64)); articles: \(packs.pack.articles.keys.sorted().joined(separator: ", "))")
        }
        return article
    }

    /// The caller's acknowledgements and which articles are for them.
    struct Standing {
        var acknowledged: [ArticleKey: Int64]
        var person: QueueAccess.Person?
        var queues: [String: QueueDefinition]
        func isFor(_ article: Article) -> Bool { person.map { article.isFor($0, queues: queues) } ?? false }
    }

    func standing(_ context: WardenRequestContext) async throws -> Standing {
        let queues = packs.pack.review.configuration.queues
        guard let user = context.user else { return Standing(acknowledged: [:], person: nil, queues: queues) }
        let acks = try await store.acknowledgements(article: nil, user: context.actor.description)
        return Standing(acknowledged: Dictionary(acks.map { (ArticleKey(article: $0.article, version: $0.version), $0.at) }, uniquingKeysWith: min),
                        person: QueueAccess.Person(name: user.name, role: user.role, teams: user.teams, assignedQueues: context.assignedQueues.map(Array.init)),
                        queues: queues)
    }

    /// Everyone the article is for (active people who may work one of its queues), and whether they
    /// acknowledged its current version.
    func readers(of article: Article) async throws -> ArticleReadersResponse {
        let queues = packs.pack.review.configuration.queues
        let acks = try await store.acknowledgements(article: article.id, user: nil)
        var readers: [ArticleReadersResponse.Reader] = []
        for user in try await store.users() where user.disabledAt == nil {
            let person = QueueAccess.Person(name: user.name, role: user.role, teams: user.teams,
                                            assignedQueues: user.role.isLimitedToAssignedQueues ? user.queues : nil)
            guard article.isFor(person, queues: queues) else { continue }
            let who = ActorRef(.user, user.name).description
            let mine = acks.filter { $0.user == who }
            let current = mine.first { $0.version == article.version }
            readers.append(.init(user: who, acknowledged: current != nil, at: current.map { Timestamp.formatRFC3339($0.at) },
                                 previousVersion: current == nil ? mine.last?.version : nil))
        }
        readers.sort { ($0.acknowledged ? 1 : 0, $0.user) < ($1.acknowledged ? 1 : 0, $1.user) }
        return ArticleReadersResponse(article: article.id, version: article.version, acknowledged: readers.filter(\.acknowledged).count, readers: readers)
    }
}
