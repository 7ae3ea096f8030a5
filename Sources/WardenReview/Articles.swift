import Foundation
import WardenCore
/// A knowledge article of the pack (`articles/NAME.md`): guidance reviewers read next to a case,
/// linked from categories, queues, decision trees and macros. Its version is a digest of its file,
/// so any change is a new version that the people of its queues are asked to acknowledge.
public struct Article: Sendable, Equatable {
    public var id: String
    public var title: String
    /// Markdown.
    public var body: String
    public var version: String
    public var categories: [String]
    public var queues: [String]
    public var trees: [String]
    public var macros: [String]

    public init(id: String, title: String, body: String, version: String, categories: [String] = [], queues: [String] = [], trees: [String] = [],
                macros: [String] = []) {
        self.id = id
        self.title = title
        self.body = body
        self.version = version
        self.categories = categories
        self.queues = queues
        self.trees = trees
        self.macros = macros
    }

    /// Whether the article is about a case of `category` in `queue`: it names the queue, or a
    /// category that is the case's or one of its parents (`harassment` covers `harassment.bullying`).
    public func applies(category: String?, queue: String?) -> Bool {
        if let queue, queues.contains(queue) { return true }
        guard let category else { return false }
        return categories.contains { category == $0 || category.hasPrefix($0 + ".") }
    }

    /// Whether every word of `query` (case-insensitive) is in the title or the body.
    public func matches(_ query: String) -> Bool {
        let text = (title + "\n" + body).lowercased()
        return query.lowercased().split(whereSeparator: \.isWhitespace).allSatisfy { text.contains($0) }
    }

    /// The key an acknowledgement is stored under: this article at this version.
    public var key: ArticleKey { ArticleKey(article: id, version: version) }
}

public struct ArticleKey: Sendable, Hashable {
    public var article: String
    public var version: String

    public init(article: String, version: String) {
        self.article = article
        self.version = version
    }
}

/// Markdown to HTML for articles: headings, paragraphs, lists, emphasis, code and links (http,
/// https and site-relative only). Every character of the source is escaped first, so an article
/// cannot inject markup.
public enum ArticleMarkdown {
    public static func html(_ markdown: String) -> String {
        var out: [String] = []
        var paragraph: [String] = []
        var list: [String] = []
        var code: [String]? = nil
        func flush() {
            if !paragraph.isEmpty { out.append("<p>\(paragraph.map(inline).joined(separator: " "))</p>"); paragraph = [] }
            if !list.isEmpty { out.append("<ul>" + list.map { "<li>\(inline($0))</li>" }.joined() + "</ul>"); list = [] }
        }
        for raw in markdown.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = String(raw)
            if line.hasPrefix("```") {
                if let lines = code {
                    out.append("<pre><code>\(lines.map(escape).joined(separator: "\n"))</code></pre>")
                    code = nil
                } else {
                    flush()
                    code = []
                }
                continue
            }
            if code != nil { code!.append(line); continue }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { flush(); continue }
            if let level = heading(trimmed) {
                flush()
                let text = trimmed.drop { $0 == "#" }.trimmingCharacters(in: .whitespaces)
                out.append("<h\(level + 1)>\(inline(text))</h\(level + 1)>")
            } else if !list.isEmpty, line.first?.isWhitespace == true {
                list[list.count - 1] += " " + trimmed  // a list item continued on an indented line
            } else if trimmed.hasPrefix("- ") || trimmed.hasPrefix("* ") {
                if !paragraph.isEmpty { flush() }
                list.append(String(trimmed.dropFirst(2)))
            } else {
                if !list.isEmpty { flush() }
                paragraph.append(trimmed)
            }
        }
        if let lines = code { out.append("<pre><code>\(lines.map(escape).joined(separator: "\n"))</code></pre>") }
        flush()
        return out.joined(separator: "\n")
    }

    static func heading(_ line: String) -> Int? {
        let hashes = line.prefix { $0 == "#" }.count
        guard (1...4).contains(hashes), line.dropFirst(hashes).first == " " else { return nil }
        return hashes
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    /// `**bold**`, `*emphasis*`, `` `code` `` and `[text](url)` inside escaped text.
    static func inline(_ text: String) -> String {
        var out = ""
        var rest = Substring(text)
        while let first = rest.first {
            if first == "`", let end = rest.dropFirst().firstIndex(of: "`") {
                out += "<code>\(escape(String(rest[rest.index(after: rest.startIndex)..<end])))</code>"
                rest = rest[rest.index(after: end)...]
            } else if rest.hasPrefix("**"), let end = rest.dropFirst(2).range(of: "**") {
                out += "<strong>\(inline(String(rest[rest.index(rest.startIndex, offsetBy: 2)..<end.lowerBound])))</strong>"
                rest = rest[end.upperBound...]
            } else if first == "*", let end = rest.dropFirst().firstIndex(of: "*"), end > rest.index(after: rest.startIndex) {
                out += "<em>\(inline(String(rest[rest.index(after: rest.startIndex)..<end])))</em>"
                rest = rest[rest.index(after: end)...]
            } else if first == "[", let close = rest.firstIndex(of: "]"), rest[rest.index(after: close)...].first == "(",
                      let paren = rest[close...].firstIndex(of: ")") {
                let label = String(rest[rest.index(after: rest.startIndex)..<close])
                let url = String(rest[rest.index(close, offsetBy: 2)..<paren])
                if url.hasPrefix("https://") || url.hasPrefix("http://") || (url.hasPrefix("/") && !url.hasPrefix("//")) {
                    out += "<a href=\"\(escape(url))\">\(inline(label))</a>"
                } else {
                    out += escape("[\(label)](\(url))")
                }
                rest = rest[rest.index(after: paren)...]
            } else {
                out += escape(String(first))
                rest = rest.dropFirst()
            }
        }
        return out
    }
}

extension Article {
    /// Whether `person` is asked to read the article (and acknowledge each new version): someone who
    /// reviews and may work one of its queues; an article naming no queue is for everyone who reviews.
    public func isFor(_ person: QueueAccess.Person, queues definitions: [String: QueueDefinition]) -> Bool {
        guard Scope.casesReview.isSatisfied(by: person.role.scopes) else { return false }
        if queues.isEmpty { return true }
        return queues.contains { QueueAccess.refusal(person, queue: $0, definition: definitions[$0]) == nil }
    }
}
