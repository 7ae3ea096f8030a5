public import Hummingbird
import WardenCore

/// An RFC 9457 problem document: the shape of every error Warden's API returns.
public struct Problem: HTTPResponseError, Sendable {
    /// The HTTP status.
    public var status: HTTPResponse.Status
    /// A short, stable slug naming the kind of problem; the `type` URI is derived from it.
    public var slug: String
    /// A human title for the kind of problem.
    public var title: String
    /// What happened in this case and what to do.
    public var detail: String
    /// Extra members, already encoded as JSON values.
    public var extensions: [(String, [UInt8])] = []
    /// Extra headers (such as `WWW-Authenticate`).
    public var headers: HTTPFields = [:]

    /// Creates a problem.
    public init(_ status: HTTPResponse.Status, _ slug: String, title: String, detail: String) {
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail
    }

    /// The document as JSON.
    public var json: [UInt8] {
        var writer = JSONWriter(capacity: 256)
        writer.beginObject()
        writer.field("type", "urn:warden:problem:\(slug)")
        writer.field("title", title)
        writer.field("status", Int64(status.code))
        writer.field("detail", detail)
        for (name, value) in extensions {
            writer.key(name)
            writer.raw(value)
        }
        writer.endObject()
        return writer.bytes
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        response
    }

    /// The problem as an HTTP response.
    public var response: Response {
        var headers = self.headers
        headers[.contentType] = "application/problem+json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: json)))
    }
}

extension Problem {
    static func notFound(_ what: String) -> Problem {
        Problem(.notFound, "not-found", title: "Not found", detail: what)
    }

    static func badRequest(_ slug: String, _ detail: String) -> Problem {
        Problem(.badRequest, slug, title: "Bad request", detail: detail)
    }
}
