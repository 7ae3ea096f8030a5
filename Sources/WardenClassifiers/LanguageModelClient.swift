public import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore

/// How Warden talks to a served model over an OpenAI-compatible API (vLLM, Ollama, a hosted API).
public struct LanguageModelSettings: Sendable {
    /// The API's base URL, such as `http://127.0.0.1:8000/v1`.
    public var baseURL: String
    /// The model name the server knows.
    public var model: String
    /// Sent as `Authorization: Bearer …` when set.
    public var apiKey: String?
    /// The longest one attempt may take.
    public var timeout: Duration = .seconds(10)
    /// Further attempts after a timeout, a connection failure, 429 or 5xx, with exponential backoff
    /// and jitter starting at `backoff`.
    public var retries = 2
    public var backoff: Duration = .milliseconds(200)
    /// Requests in flight at once; more wait their turn.
    public var maxConcurrent = 4
    /// Tokens (`usage.total_tokens`) this client may spend; nil for no limit.
    public var tokenBudget: Int?
    /// US dollars per thousand tokens, for the cost a classification reports.
    public var dollarsPerThousandTokens = 0.0
    /// Consecutive failed requests that open the circuit, and how long it stays open.
    public var breakerThreshold = 5
    public var breakerCooldown: Duration = .seconds(30)
    /// Answers remembered, keyed by model, policy version and a SHA-256 of the content sent.
    public var cacheCapacity = 10_000
    /// Personal data replaced before text leaves the system.
    public var redaction = Redaction.personalData

    public init(baseURL: String, model: String, apiKey: String? = nil) {
        self.baseURL = baseURL
        self.model = model
        self.apiKey = apiKey
    }
}

/// What is masked in text sent to a model.
public struct Redaction: Sendable, Equatable {
    public var emails: Bool
    public var phoneNumbers: Bool
    public var ipAddresses: Bool

    public static let personalData = Redaction(emails: true, phoneNumbers: true, ipAddresses: true)
    public static let none = Redaction(emails: false, phoneNumbers: false, ipAddresses: false)

    public init(emails: Bool, phoneNumbers: Bool, ipAddresses: Bool) {
        self.emails = emails
        self.phoneNumbers = phoneNumbers
        self.ipAddresses = ipAddresses
    }

    /// The text with what is configured replaced by `[email]`, `[ip]` and `[phone]` (IP addresses
    /// before phone numbers, which would otherwise take them). The patterns are regex literals,
    /// checked when Warden is compiled (`Regex` is not `Sendable`, so they are not kept in statics).
    public func apply(_ text: String) -> String {
        var result = text
        if emails { result = result.replacing(#/[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/#, with: "[email]") }
        if ipAddresses { result = result.replacing(#/\b(?:\d{1,3}\.){3}\d{1,3}\b/#, with: "[ip]") }
        if phoneNumbers { result = result.replacing(#/\+?\b\d[\d ().-]{6,}\d\b/#, with: "[phone]") }
        return result
    }
}

/// Why a classifier could not answer. Nothing here is ever turned into "safe".
public enum ClassifierError: Error, Equatable, CustomStringConvertible {
    /// The model answered, but not in its documented format.
    case unparseable(String)
    /// Every attempt timed out or failed to connect.
    case unavailable(String)
    /// The server refused the request (4xx other than 429).
    case rejected(status: Int, body: String)
    /// Too many recent failures: requests are not sent until the cooldown ends.
    case circuitOpen
    /// The token budget is spent.
    case budgetExhausted

    public var description: String {
        switch self {
        case .unparseable(let detail): "the model's answer could not be read: \(detail)"
        case .unavailable(let detail): "the model did not answer: \(detail)"
        case .rejected(let status, let body): "the model's server refused the request (\(status)): \(body.prefix(200))"
        case .circuitOpen: "the circuit breaker is open after repeated failures; requests resume after the cooldown"
        case .budgetExhausted: "the token budget is spent"
        }
    }
}

/// Counts of what a client did, for metrics and tests.
public struct LanguageModelStatistics: Sendable, Equatable {
    public var requests = 0
    public var retries = 0
    public var failures = 0
    public var unparseable = 0
    public var cacheHits = 0
    public var tokens = 0
}

/// Posts JSON to an OpenAI-compatible API with the guards every model call needs: a timeout per
/// attempt, retries with backoff and jitter, a concurrency limit, a token budget, a circuit breaker
/// and a response cache.
public final class LanguageModelClient: Sendable {
    public let settings: LanguageModelSettings
    private let http: HTTPClient
    private let state: Guard

    public init(settings: LanguageModelSettings, http: HTTPClient = .shared) {
        self.settings = settings
        self.http = http
        state = Guard(settings: settings)
    }

    /// What the client has done so far.
    public func statistics() async -> LanguageModelStatistics {
        await state.statistics
    }

    /// Redacts `text`, asks the model (or the cache) with the body `body` makes of it, and reads
    /// the answer with `read`. An answer `read` cannot parse is counted and dropped from the cache.
    func ask<Answer>(_ path: String, text: String, policyVersion: String? = nil, body: (String) -> [String: Any],
                     read: ([String: Any]) throws -> Answer) async throws -> Answer {
        let redacted = settings.redaction.apply(text)
        let key = cacheKey(policyVersion: policyVersion, content: redacted)
        let answer = try await post(path, body: body(redacted), cacheKey: key)
        do {
            return try read(answer)
        } catch {
            await state.unparseable(key)
            throw error
        }
    }

    /// The key an answer is cached under: model, policy version and a SHA-256 of the content.
    func cacheKey(policyVersion: String?, content: String) -> String {
        let digest = Array(SHA256.hash(data: Data(content.utf8))).hexString
        return "\(settings.model)|\(policyVersion ?? "")|\(digest)"
    }

    /// Posts `body` to `path` (under the base URL) and returns the answer, a JSON object; a cached
    /// answer is returned without a request.
    func post(_ path: String, body: [String: Any], cacheKey: String) async throws -> [String: Any] {
        let bytes = try await postBytes(path, body: body, cacheKey: cacheKey)
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            await state.unparseable(cacheKey)
            throw ClassifierError.unparseable("the body is not a JSON object: \(String(decoding: bytes.prefix(200), as: UTF8.self))")
        }
        return object
    }

    private func postBytes(_ path: String, body: [String: Any], cacheKey: String) async throws -> [UInt8] {
        if let cached = await state.cached(cacheKey) { return cached }
        let payload = try JSONSerialization.data(withJSONObject: body)
        try await state.admit()
        do {
            let answer = try await attempts(path, payload: payload, cacheKey: cacheKey)
            await state.release()
            return answer
        } catch {
            await state.release()
            throw error
        }
    }

    /// One request with its retries.
    private func attempts(_ path: String, payload: Data, cacheKey: String) async throws -> [UInt8] {
        var attempt = 0
        var lastError = ClassifierError.unavailable("no attempt made")
        while attempt <= settings.retries {
            if attempt > 0 {
                await state.countRetry()
                let base = settings.backoff * (1 << (attempt - 1))
                try await Task.sleep(for: base + base * Double.random(in: 0..<0.5))
            }
            attempt += 1
            var request = HTTPClientRequest(url: settings.baseURL.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + path)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            if let key = settings.apiKey { request.headers.add(name: "Authorization", value: "Bearer \(key)") }
            request.body = .bytes(ByteBuffer(bytes: payload))
            do {
                let response = try await http.execute(request, timeout: .nanoseconds(Int64(settings.timeout.components.seconds) * 1_000_000_000
                    + settings.timeout.components.attoseconds / 1_000_000_000))
                let bytes = try await response.body.collect(upTo: 8 << 20)
                let status = Int(response.status.code)
                if status == 429 || status >= 500 {
                    lastError = .unavailable("HTTP \(status)")
                    continue
                }
                guard (200..<300).contains(status) else {
                    await state.failed()
                    throw ClassifierError.rejected(status: status, body: String(buffer: bytes))
                }
                let answer = Array(buffer: bytes)
                let object = try? JSONSerialization.jsonObject(with: Data(answer)) as? [String: Any]
                let tokens = (object?["usage"] as? [String: Any])?["total_tokens"] as? Int ?? 0
                await state.succeeded(tokens: tokens)
                await state.remember(cacheKey, answer)
                return answer
            } catch let error as ClassifierError {
                throw error
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                lastError = .unavailable("\(error)")
            }
        }
        await state.failed()
        throw lastError
    }

    /// The mutable side: admission (concurrency, budget, breaker), the cache and the counts.
    private actor Guard {
        let settings: LanguageModelSettings
        var statistics = LanguageModelStatistics()
        var inFlight = 0
        var waiting: [CheckedContinuation<Void, Never>] = []
        var consecutiveFailures = 0
        var openUntil: ContinuousClock.Instant?
        var cache: [String: [UInt8]] = [:]
        var order: [String] = []

        init(settings: LanguageModelSettings) {
            self.settings = settings
        }

        func cached(_ key: String) -> [UInt8]? {
            guard let hit = cache[key] else { return nil }
            statistics.cacheHits += 1
            return hit
        }

        func admit() async throws {
            if let openUntil, ContinuousClock.now < openUntil { throw ClassifierError.circuitOpen }
            if let budget = settings.tokenBudget, statistics.tokens >= budget { throw ClassifierError.budgetExhausted }
            if inFlight >= settings.maxConcurrent {
                await withCheckedContinuation { waiting.append($0) }
            } else {
                inFlight += 1
            }
            statistics.requests += 1
        }

        func release() {
            if waiting.isEmpty { inFlight -= 1 } else { waiting.removeFirst().resume() }
        }

        func countRetry() { statistics.retries += 1 }

        func succeeded(tokens: Int) {
            consecutiveFailures = 0
            openUntil = nil
            statistics.tokens += tokens
        }

        func failed() {
            statistics.failures += 1
            consecutiveFailures += 1
            if consecutiveFailures >= settings.breakerThreshold { openUntil = ContinuousClock.now + settings.breakerCooldown }
        }

        func unparseable(_ key: String) {
            statistics.unparseable += 1
            cache[key] = nil
        }

        func remember(_ key: String, _ answer: [UInt8]) {
            guard settings.cacheCapacity > 0, cache[key] == nil else { return }
            if order.count >= settings.cacheCapacity { cache[order.removeFirst()] = nil }
            cache[key] = answer
            order.append(key)
        }
    }
}
