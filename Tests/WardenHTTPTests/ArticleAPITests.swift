import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import WardenCore
import WardenEngine
import WardenReview
@testable import WardenHTTP

@Suite struct ArticleAPITests {
    /// The example pack's articles are searchable and shown next to a case of their category; the
    /// people of a queue are asked to read its article, acknowledge it once per version, and a lead
    /// sees who has; a changed article (a reload) asks again.
    @Test func articlesAreReadAcknowledgedAndAskedAgainWhenTheyChange() async throws {
        let pack = FileManager.default.temporaryDirectory.appendingPathComponent("warden-pack-\(UUID().uuidString)")
        try FileManager.default.copyItem(atPath: Harness.packDirectory, toPath: pack.path)
        let harness = try await Harness.make(packDirectory: pack.path)
        let users = try #require(harness.components.users)
        _ = try await users.add(name: "lee", role: .lead, password: ConsoleTests.password, teams: ["trust"], actor: "test")
        _ = try await users.add(name: "ana", role: .reviewer, password: ConsoleTests.password, teams: ["trust"], actor: "test")
        _ = try await users.add(name: "vic", role: .vendorReviewer, password: ConsoleTests.password, queues: ["spam"], teams: ["vendor"], actor: "test")
        try await harness.test { client in
            let lee = try await CalibrationAPITests.signIn(client, "lee")
            let ana = try await CalibrationAPITests.signIn(client, "ana")
            let vic = try await CalibrationAPITests.signIn(client, "vic")
            let list = try await ana.get("/v1/articles").json["articles"] as? [[String: Any]] ?? []
            #expect(list.map { $0["id"] as? String } == ["harassment-basics", "scam-messages"])  // by title
            #expect((try await ana.get("/v1/articles?q=pile-on").json["articles"] as? [[String: Any]])?.map { $0["id"] as? String } == ["harassment-basics"])
            #expect((try await ana.get("/v1/articles?category=fraud.scam").json["articles"] as? [[String: Any]])?.map { $0["id"] as? String } == ["scam-messages"])
            let one = try await ana.get("/v1/articles/harassment-basics").json
            #expect(one["for_you"] as? Bool == true && one["acknowledged"] as? Bool == false && (one["body"] as? String)?.contains("# What counts") == true)
            #expect(try await ana.get("/v1/articles/nothing").status == .notFound)
            #expect(try await vic.get("/v1/articles/harassment-basics").json["for_you"] as? Bool == false)
            #expect(try await client.post("/v1/articles/harassment-basics/acknowledge", token: harness.admin, body: "").status == .forbidden)

            let readers = try await lee.get("/v1/articles/harassment-basics/acknowledgements").json
            #expect((readers["readers"] as? [[String: Any]])?.map { $0["user"] as? String } == ["user:ana", "user:lee"])
            #expect(readers["acknowledged"] as? Int == 0)
            #expect(try await ana.get("/v1/articles/harassment-basics/acknowledgements").status == .forbidden)

            let acked = try await ana.post("/v1/articles/harassment-basics/acknowledge", "")
            #expect(acked.status == .ok && acked.json["acknowledged"] as? Bool == true)
            let again = try await ana.post("/v1/articles/harassment-basics/acknowledge", "")
            #expect(again.json["acknowledged_at"] as? String == acked.json["acknowledged_at"] as? String)
            #expect(try await lee.get("/v1/articles/harassment-basics/acknowledgements").json["acknowledged"] as? Int == 1)

            // The article changes: a new version, and ana is asked again.
            let file = pack.appendingPathComponent("articles/harassment-basics.md")
            try (try String(contentsOf: file, encoding: .utf8) + "\nDoxxing (publishing someone's address) is harassment too.\n")
                .write(to: file, atomically: true, encoding: .utf8)
            #expect(try await client.post("/v1/policy-pack/reload", token: harness.admin, body: "").status == .ok)
            let changed = try await ana.get("/v1/articles/harassment-basics").json
            #expect(changed["version"] as? String != one["version"] as? String && changed["acknowledged"] as? Bool == false)
            let after = try await lee.get("/v1/articles/harassment-basics/acknowledgements").json
            #expect(((after["readers"] as? [[String: Any]])?.first { $0["user"] as? String == "user:ana" })?["previous_version"] as? String == one["version"] as? String)
            let page = try await client.execute(uri: "/articles", method: .get, headers: [.cookie: ana.cookie])
            #expect(String(buffer: page.body).contains(#"<ul id="articles-pending"><li><a href="/articles/harassment-basics">"#))
            let article = try await client.execute(uri: "/articles/harassment-basics", method: .get, headers: [.cookie: ana.cookie])
            let html = String(buffer: article.body)
            #expect(html.contains("<h2>What counts as harassment</h2>") && html.contains("<strong>aimed at a person</strong>") && html.contains("article-acknowledge"))
            let form = try await client.execute(uri: "/articles/harassment-basics/acknowledge", method: .post,
                                                headers: [.cookie: ana.cookie, .contentType: "application/x-www-form-urlencoded"],
                                                body: ByteBuffer(string: "_csrf=\(ana.csrf)"))
            #expect(form.status == .seeOther)
            let leadPage = String(buffer: try await client.execute(uri: "/articles/harassment-basics", method: .get, headers: [.cookie: lee.cookie]).body)
            #expect(leadPage.contains("1 of 2 people this article is for have read version"))

            // The review screen shows the articles about the case's category next to it.
            #expect(try await client.post("/v1/events", token: harness.writer, body: scamMessage("m1", actor: "s1")).status == .ok)
            try await harness.buildCases()
            let caseID = try #require(try await harness.components.review.claimNext(queue: "scams", reviewer: "token:x")).id
            let casePage = String(buffer: try await client.execute(uri: "/cases/\(caseID)", method: .get, headers: [.cookie: lee.cookie]).body)
            #expect(casePage.contains(#"id="case-articles""#) && casePage.contains(#"<a href="/articles/scam-messages""#))
            #expect(!casePage.contains("/articles/harassment-basics"))
        }
        let actions = try await harness.store.auditEntries(after: 0, limit: 1000).map(\.action)
        #expect(actions.filter { $0 == "article.acknowledge" }.count == 2)
    }

    /// A broken article is refused with its file and place, and the pack does not load.
    @Test func brokenArticlesAreRefusedWithTheirPlace() throws {
        let pack = FileManager.default.temporaryDirectory.appendingPathComponent("warden-pack-\(UUID().uuidString)")
        try FileManager.default.copyItem(atPath: Harness.packDirectory, toPath: pack.path)
        try "---\ntitle: X\nqueues: [nowhere]\ncategories: [harassment.bullying, nope]\n---\nbody\n"
            .write(to: pack.appendingPathComponent("articles/bad.md"), atomically: true, encoding: .utf8)
        try "no front matter\n".write(to: pack.appendingPathComponent("articles/plain.md"), atomically: true, encoding: .utf8)
        let error = #expect(throws: PolicyPackError.self) { _ = try PolicyPack.load(from: pack.path) }
        let text = error?.description ?? ""
        #expect(text.contains("articles/bad.md") && text.contains("queues[0]") && text.contains("nowhere") && text.contains("categories[1]"))
        #expect(text.contains("articles/plain.md") && text.contains("front matter"))
    }
}
