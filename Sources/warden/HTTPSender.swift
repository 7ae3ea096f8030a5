import AsyncHTTPClient
import Foundation
import NIOCore
import WardenCore

/// Posts NDJSON batches to a running Warden, retrying transient failures. Retries are safe:
/// intake absorbs a repeated event as a duplicate.
struct HTTPSender {
    let client: HTTPClient
    let baseURL: String
    let token: String?

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The counts at the head of an intake answer.
    struct Counts: Decodable {
        var accepted: Int
        var duplicates: Int
        var conflicts: Int
        var rejected: Int
    }

    /// Sends one NDJSON body and returns the decoded answer.
    func send(_ body: [UInt8]) async throws -> IntakeResult {
        try JSONDecoder().decode(IntakeResult.self, from: Data(buffer: try await post(body)))
    }

    /// Sends one NDJSON body and reads only the counts (for load generation, where decoding a
    /// thousand per-line results would cost the client more than the server spends on them).
    func sendCounting(_ body: [UInt8]) async throws -> Counts {
        let answer = try await post(body)
        let view = answer.readableBytesView
        let marker = Array(#","results""#.utf8)
        guard let end = view.firstRange(of: marker) else { throw Failure(description: "unexpected answer: \(String(buffer: answer).prefix(200))") }
        return try JSONDecoder().decode(Counts.self, from: Data(view[..<end.lowerBound]) + Data("}".utf8))
    }

    private func post(_ body: [UInt8]) async throws -> ByteBuffer {
        var attempt = 0
        while true {
            attempt += 1
            do {
                var request = HTTPClientRequest(url: baseURL.trimmingSuffix("/") + "/v1/events")
                request.method = .POST
                request.headers.add(name: "Content-Type", value: "application/x-ndjson")
                if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
                request.body = .bytes(ByteBuffer(bytes: body))
                let response = try await client.execute(request, timeout: .seconds(60))
                let answer = try await response.body.collect(upTo: 64 << 20)
                let status = response.status.code
                if status >= 500 || status == 429 { throw Failure(description: "server answered \(status)") }
                if status == 401 || status == 403 || status == 413 || status == 415 {
                    throw FatalFailure(description: "server answered \(status): \(String(buffer: answer))")
                }
                return answer
            } catch let error as FatalFailure {
                throw error
            } catch {
                guard attempt < 6 else { throw error }
                try await Task.sleep(for: .milliseconds(100 * (1 << attempt)))
            }
        }
    }

    struct FatalFailure: Error, CustomStringConvertible {
        var description: String
    }
}

extension String {
    func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}
