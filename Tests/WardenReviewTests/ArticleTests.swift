import Testing
import WardenCore
@testable import WardenReview

@Suite struct ArticleTests {
    static let article = Article(id: "harassment-basics", title: "Harassment basics", body: "Aimed at a **person**.", version: "abc",
                                 categories: ["harassment"], queues: ["harassment"])

    @Test(arguments: [
        ("harassment.bullying", nil, true), ("harassment", nil, true), ("harassmentx", nil, false), ("spam", nil, false),
        (nil, "harassment", true), ("spam", "harassment", true), (nil, "spam", false),
    ] as [(String?, String?, Bool)])
    func appliesByCategoryPrefixOrQueue(category: String?, queue: String?, applies: Bool) {
        #expect(Self.article.applies(category: category, queue: queue) == applies)
    }

    @Test func searchMatchesEveryWordInTitleOrBody() {
        #expect(Self.article.matches("PERSON harassment"))
        #expect(!Self.article.matches("person threats"))
        #expect(Self.article.matches(""))
    }

    /// Who is asked to read: people who review and may work one of its queues (team, role and
    /// assigned queues as queue access says); an article without queues is for everyone who reviews.
    @Test func anArticleIsForThePeopleOfItsQueues() {
        let queues = ["harassment": QueueDefinition(name: "harassment", teams: ["trust"]), "spam": QueueDefinition(name: "spam")]
        func person(_ role: Role, teams: [String] = [], assigned: [String]? = nil) -> QueueAccess.Person {
            QueueAccess.Person(name: "p", role: role, teams: teams, assignedQueues: assigned)
        }
        #expect(Self.article.isFor(person(.reviewer, teams: ["trust"]), queues: queues))
        #expect(!Self.article.isFor(person(.reviewer, teams: ["vendor"]), queues: queues))
        #expect(Self.article.isFor(person(.lead), queues: queues))
        #expect(!Self.article.isFor(person(.vendorReviewer, teams: ["trust"], assigned: ["spam"]), queues: queues))
        #expect(!Self.article.isFor(person(.auditor), queues: queues))
        #expect(!Self.article.isFor(person(.analyst), queues: queues))
        var general = Self.article
        general.queues = []
        #expect(general.isFor(person(.vendorReviewer, assigned: ["spam"]), queues: queues))
    }

    @Test(arguments: [
        ("# Title\n\nA **bold** and *em* `code` line.", "<h2>Title</h2>\n<p>A <strong>bold</strong> and <em>em</em> <code>code</code> line.</p>"),
        ("- one\n- two\n\nafter", "<ul><li>one</li><li>two</li></ul>\n<p>after</p>"),
        ("- one\n  continued\n- two\nnext", "<ul><li>one continued</li><li>two</li></ul>\n<p>next</p>"),
        ("<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"),
        ("[policy](https://example.org/p?a=1&b=2) [bad](javascript:alert(1)) [site](/cases/1)",
         "<p><a href=\"https://example.org/p?a=1&amp;b=2\">policy</a> [bad](javascript:alert(1)) <a href=\"/cases/1\">site</a></p>"),
        ("```\n<b>raw</b>\n```", "<pre><code>&lt;b&gt;raw&lt;/b&gt;</code></pre>"),
        ("line one\nline two", "<p>line one line two</p>"),
        ("#nospace", "<p>#nospace</p>"),
        ("a \"quote\" & 'apostrophe'", "<p>a &quot;quote&quot; &amp; &#39;apostrophe&#39;</p>"),
    ])
    func markdownIsRenderedAndEscaped(markdown: String, html: String) {
        #expect(ArticleMarkdown.html(markdown) == html)
    }
}
