import Hummingbird
import Logging
import WardenStore

/// Turns every error that leaves a handler into a problem document. Errors that are not
/// `HTTPResponseError`s become a bare 500 whose detail never carries internal text; the
/// error itself goes to the log.
struct ProblemMiddleware: RouterMiddleware {
    typealias Context = WardenRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let problem as Problem {
            throw problem
        } catch let error as HTTPError {
            let detail = error.body ?? (error.status == .notFound ? "no route matches \(request.method) \(request.uri.path)" : error.status.reasonPhrase)
            throw Problem(error.status, error.status == .notFound ? "not-found" : "http-\(error.status.code)",
                          title: error.status.reasonPhrase, detail: detail)
        } catch let error as UnstorableText {
            throw RequestInput.invalid(nil, error.description)
        } catch let error as any HTTPResponseError {
            throw Problem(error.status, "http-\(error.status.code)", title: error.status.reasonPhrase, detail: error.status.reasonPhrase)
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(String(reflecting: error))", "path": "\(request.uri.path)"])
            throw Problem(.internalServerError, "internal", title: "Internal error",
                          detail: "the server failed to handle the request; the error is in its log (request \(context.id))")
        }
    }
}
