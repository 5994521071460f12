import AsyncHTTPClient
import CoreMetrics
import Foundation
import HTTPTypes
import Hummingbird
import KeywardenCore
import KeywardenHTTP
import NIOCore
import NIOHTTP1

/// Where authenticated `/v1/*` calls go.
public enum Upstream: Sendable {
    /// The built-in development upstream.
    case echo
    /// An HTTP(S) base URL, such as `https://api.example.com`.
    case url(String)
}

/// What calls cost and what they may spend: the prices, the guard that checks balances,
/// monthly limits and budgets from memory, and the currency refusals are written in.
public struct GatewayPricing: Sendable {
    public let prices: ModelPrices
    public let spend: SpendGuard
    public let currency: BillingCurrency

    public init(prices: ModelPrices, spend: SpendGuard, currency: BillingCurrency) {
        self.prices = prices
        self.spend = spend
        self.currency = currency
    }
}

/// Every `/v1/*` path Keywarden does not serve itself: authenticated by a project or
/// service-account key from the in-memory index, checked against the key's permissions and rate
/// limits, forwarded with bodies streamed both ways, and metered.
///
/// The gateway decides what goes upstream and what comes back; an ``UpstreamTransport`` (the
/// lean client or AsyncHTTPClient) carries it.
public struct Gateway: Sendable {
    let upstream: Upstream
    let upstreamAuthorization: String?
    /// AsyncHTTPClient, for the calls the lean client does not carry.
    let client: HTTPClient
    /// The lean client for plain-HTTP upstreams, used for calls whose body is in memory.
    let lean: UpstreamHTTP1Client?
    let limits: RateLimitPolicy
    let meter: UsageMeter
    /// Prices and spend checks; `nil` when pricing is off (every call costs nothing).
    let pricing: GatewayPricing?
    /// The organizations an operator suspended: their keys are refused.
    let suspended: SuspendedOrganizations?
    let clock: Clock
    /// Where calls, refusals and upstream errors are counted and upstream answers timed.
    let metrics: KeywardenMetrics
    /// The largest request body a call may carry, declared or streamed.
    let maxRequestBody: Int
    let maxEchoBody = 1 << 20
    /// JSON request bodies up to this size are read before forwarding, to estimate their
    /// tokens; larger ones stream through, charged by their declared length.
    let maxEstimatedBody = 1 << 20
    /// Answers up to this size with a declared length are read whole before being sent on.
    let maxBufferedAnswer = 256 << 10

    /// Creates the gateway.
    ///
    /// - Parameters:
    ///   - upstreamAuthorization: replaces the caller's key on the way out (`Bearer ...`).
    ///   - client: an HTTP client whose connect and read timeouts bound every forwarded call.
    ///   - lean: the lean client for a plain-HTTP upstream: calls whose body is in memory go
    ///     through it; streamed uploads and TLS upstreams through `client`.
    ///   - limits: the tiers, project overrides and buckets every call is held to.
    ///   - meter: where finished calls are counted.
    ///   - pricing: prices and spend checks, when calls are priced.
    ///   - suspended: the suspended organizations, whose keys are refused with 403.
    ///   - maxRequestBody: the largest request body a call may carry, in bytes.
    ///   - metrics: where calls, refusals and upstream errors are counted.
    public init(
        upstream: Upstream, upstreamAuthorization: String?, client: HTTPClient, lean: UpstreamHTTP1Client? = nil,
        limits: RateLimitPolicy, meter: UsageMeter, pricing: GatewayPricing? = nil,
        suspended: SuspendedOrganizations? = nil, clock: Clock, maxRequestBody: Int = 1 << 30,
        metrics: KeywardenMetrics = .off
    ) {
        self.metrics = metrics
        self.pricing = pricing
        self.suspended = suspended
        self.maxRequestBody = maxRequestBody
        self.upstream = upstream
        self.upstreamAuthorization = upstreamAuthorization
        self.client = client
        self.lean = lean
        self.limits = limits
        self.meter = meter
        self.clock = clock
    }

    /// Registers `/v1/**` for every method; Keywarden's own routes still win.
    public func addRoutes(to router: CatalogingRouter<KeywardenRequestContext>) {
        // HEAD is registered, not derived from GET, so it is forwarded as HEAD and metered.
        for method in [HTTPRequest.Method.get, .head, .post, .put, .patch, .delete] {
            router.on("/v1/**", method: method, use: route)
        }
    }

    @Sendable func route(_ request: Request, context: KeywardenRequestContext) async throws -> Response {
        let path = request.uri.path
        if OwnPaths.contains(path) {
            throw DomainError(
                .notFound, code: .unknownUrl,
                message:
                    "Unknown request URL: \(request.method.rawValue) \(path). It is not one of Keywarden's own endpoints; see /openapi.yaml for them."
            )
        }
        if context.apiKey == nil, context.apiKeyRefusal == nil, context.identity != nil {
            throw DomainError(
                .unauthenticated, code: .invalidApiKey,
                message:
                    "\(path) goes through the gateway, which takes a project or service-account key (Authorization: Bearer sk-proj-...). Session tokens and admin keys are for Keywarden's own endpoints."
            )
        }
        do {
            let response = try await forward(request, context: try APIKeyContext(context: context))
            metrics.gatewayCalls.increment(RequestIDMiddleware.statusLabel(response.status.code))
            return response
        } catch let error as DomainError {
            metrics.gatewayCalls.increment(RequestIDMiddleware.statusLabel(error.status.code))
            throw error
        } catch let error as any HTTPResponseError {
            metrics.gatewayCalls.increment(RequestIDMiddleware.statusLabel(error.status.code))
            throw error
        } catch {
            metrics.gatewayCalls.increment("500")
            throw error
        }
    }

    /// What the gateway knows of a call before it goes upstream, for metering it.
    struct CallFacts: Sendable {
        let key: APIKey
        /// What the call is: a model call only for a POST that creates one (reading a stored
        /// completion or response back is not priced again).
        let category: UsageCategory
        /// The model the request asked for (empty when it named none or was not read).
        let requestedModel: String
        /// Every model the request names, nested ones included.
        let requestedModels: [String]
        /// About one token per four bytes of request body, for pricing an answer that reports
        /// no usage.
        let inputEstimate: Int

        /// The facts of a call by `key` with `method` to the path's `segments`, whose JSON body
        /// was `collected` when it was read to estimate its tokens.
        init(key: APIKey, method: HTTPRequest.Method, segments: [String], collected: ByteBuffer?) {
            self.key = key
            category = method == .post ? UsageCategory(creating: segments.dropFirst()) : .other
            requestedModel = collected.map(TokenEstimate.model(in:)) ?? ""
            requestedModels = collected.map(TokenEstimate.freeCandidates(in:)) ?? []
            inputEstimate = TokenEstimate.tokens(forBytes: collected?.readableBytes ?? 0)
        }
    }

    /// Whether a call must be checked for credit before it goes upstream.
    ///
    /// Every call that can spend upstream money needs credit: model calls, and any other write
    /// (a batch, a fine-tuning job, an Assistants run) though only model calls are priced. Only one
    /// every model name of which is listed at no cost skips the check: an unlisted model may be
    /// answered (and charged) as a priced one.
    func needsCredit(_ facts: CallFacts, method: HTTPRequest.Method, pricing: GatewayPricing) -> Bool {
        let writes = method != .get && method != .head && method != .delete
        return (facts.category.isModelCall || writes)
            && (facts.requestedModels.isEmpty || !facts.requestedModels.allSatisfy(pricing.prices.isListedFree))
    }

    /// How an answer with `status` and `contentType` is read: whether it failed, whether its
    /// bytes are watched at all, and whether its usage and model are read from them (JSON and
    /// Server-Sent Events). Priced answers that cannot report usage (plain-text transcripts)
    /// are still counted.
    func reading(_ facts: CallFacts, status: Int, contentType: String) -> (failed: Bool, active: Bool, usage: Bool) {
        let failed = status >= 400
        let reportsUsage =
            !failed && (contentType.hasPrefix("application/json") || contentType.hasPrefix("text/event-stream"))
        let counts = !failed && pricing != nil && facts.category.isModelCall
        return (failed, reportsUsage || counts, reportsUsage)
    }

    @Sendable func forward(_ request: Request, context: APIKeyContext) async throws -> Response {
        let key = context.apiKey
        if let reason = suspended?.reason(for: key.organizationID) {
            throw DomainError.organizationSuspended(reason: reason)
        }
        let path = request.uri.path
        let segments = try GatewayPath.segments(of: path)
        try Self.authorize(key, method: request.method, segments: segments, path: path)
        let declaredLength = try declaredBodyLength(request)
        let started = clock.now()
        let scopes = await limits.scopes(for: key, now: started)
        var request = request
        let (estimate, collected) = try await estimateTokens(&request, declaredLength: declaredLength)
        let facts = CallFacts(key: key, method: request.method, segments: segments, collected: collected)
        if let pricing, needsCredit(facts, method: request.method, pricing: pricing),
            let refusal = await pricing.spend.admit(
                organization: key.organizationID, project: key.projectID, now: started)
        {
            record(facts, failed: true)
            metrics.gatewayRefusals.increment(
                "spend_" + refusal.kind.rawValue, refusal.kind == .projectBudget ? "project" : "organization")
            // Trying again cannot help until someone pays or raises a limit (it can once the
            // database answers again).
            let retry: HTTPFields = refusal.kind == .unavailable ? [:] : [.shouldRetry: "false"]
            return refusal.error(currency: pricing.currency).response(extraHeaders: retry)
        }
        let status: RateLimiter.Status
        switch await limits.acquire(scopes, tokens: estimate, now: started) {
        case .admitted(let admitted):
            status = admitted
        case .refused(let refused, let retryAfter, let exhausted, let tokens):
            record(facts, failed: true)
            metrics.gatewayRefusals.increment(
                tokens ? "rate_limit_tokens" : "rate_limit_requests", exhausted.kind.rawValue)
            return Self.refusal(refused, retryAfter: retryAfter, exhausted: exhausted, tokens: tokens, asked: estimate)
        }
        let scopeIDs = scopes.map(\.id)
        var response: Response
        var whole: ByteBuffer?
        do {
            switch upstream {
            case .echo:
                do {
                    response = try await EchoUpstream(clock: clock)
                        .respond(to: request, path: path, maxBodySize: maxEchoBody)
                } catch is NIOTooManyBytesError {
                    throw DomainError.requestTooLarge(limit: maxEchoBody, what: "Calls to the echo upstream")
                }
            case .url(let base):
                let sent = ContinuousClock.now
                (response, whole) = try await proxy(
                    request, collectedBody: collected, declaredLength: declaredLength, to: base,
                    requestID: context.requestID, clientAddress: context.clientAddress)
                metrics.gatewayUpstreamDuration.record(ContinuousClock.now - sent)
            }
        } catch {
            if let failure = error as? DomainError,
                failure.code == .upstreamTimeout || failure.code == .upstreamUnavailable
            {
                metrics.gatewayUpstreamErrors.increment(failure.code == .upstreamTimeout ? "timeout" : "unavailable")
            }
            // Nothing reached the model: give the estimate back.
            limits.adjustTokens(scopeIDs, by: -estimate, now: clock.now())
            record(facts, failed: true)
            throw error
        }
        status.write(to: &response.headers)
        let (failed, active, readsUsage) = reading(
            facts, status: response.status.code, contentType: response.headers[.contentType] ?? "")
        if let whole {
            // Read whole already: settle now, and send it as it is.
            let tap = UsageTap(active: active, readsUsage: readsUsage)
            tap.observe(whole)
            settle(facts, scopeIDs: scopeIDs, estimate: estimate, failed: failed, tap: tap)
            return response
        }
        let body = response.body
        let gateway = self
        response.body = ResponseBody(contentLength: body.contentLength) { writer in
            let tap = UsageTap(active: active, readsUsage: readsUsage)
            defer { gateway.settle(facts, scopeIDs: scopeIDs, estimate: estimate, failed: failed, tap: tap) }
            try await body.write(TappingWriter(base: writer, tap: tap))
        }
        return response
    }

    /// The body length the call declares, refused with 413 above ``maxRequestBody`` (a length
    /// too large for `Int` included) before anything is read or charged.
    func declaredBodyLength(_ request: Request) throws -> Int? {
        guard let raw = request.headers[.contentLength] else { return nil }
        guard let length = Int(raw), length <= maxRequestBody else { throw bodyTooLarge }
        return length
    }

    var bodyTooLarge: DomainError {
        DomainError.requestTooLarge(limit: maxRequestBody, what: "Gateway calls")
    }

    /// Reads a JSON body small enough to estimate (keeping it for forwarding). A larger JSON body
    /// is charged a quarter token per declared byte and streams; other bodies (files, audio)
    /// stream uncharged until the answer reports its usage.
    func estimateTokens(
        _ request: inout Request, declaredLength length: Int?
    ) async throws -> (tokens: Int, body: ByteBuffer?) {
        guard request.method == .post || request.method == .put || request.method == .patch else { return (0, nil) }
        guard request.headers[.contentType]?.lowercased().hasPrefix("application/json") ?? false else {
            return (0, nil)
        }
        guard let length, length <= maxEstimatedBody else {
            return (length.map(TokenEstimate.tokens(forBytes:)) ?? 0, nil)
        }
        let body = try await request.body.collect(upTo: length)
        request.body = RequestBody(buffer: body)
        return (TokenEstimate.tokens(in: body), body)
    }

    /// Once the response has gone out: corrects the token charge by the real usage (or gives
    /// it back for a failed call), prices the call and meters it.
    func settle(_ facts: CallFacts, scopeIDs: [String], estimate: Int, failed: Bool, tap: UsageTap) {
        let usage = failed ? (prompt: 0, completion: 0) : tap.usage
        let used = usage.map { $0.prompt + $0.completion } ?? estimate
        let now = clock.now()
        limits.adjustTokens(scopeIDs, by: used - estimate, now: now)
        // The answer names the model that ran (often a dated version of the one asked for).
        let model = failed ? "" : (tap.model ?? facts.requestedModel)
        let prompt = usage?.prompt ?? 0
        let completion = usage?.completion ?? 0
        var inputCost: Int64 = 0
        var outputCost: Int64 = 0
        if let pricing, facts.category.isModelCall, !failed, usage != nil || facts.category.isText {
            // A text answer that reports no usage (a stream without include_usage, a reader who
            // left early) is charged an estimate: a token per four bytes of JSON request and of
            // answer. (Images and audio without usage have no such estimate and cost nothing.)
            let input = usage == nil ? facts.inputEstimate : prompt
            let output = usage == nil ? TokenEstimate.tokens(forBytes: tap.byteCount) : completion
            // The dearer of what was asked for and what answered, so no name makes a call cheaper.
            let answered = pricing.prices.price(for: model)
            var price = answered
            if facts.requestedModel != model {
                let asked = pricing.prices.price(for: facts.requestedModel)
                let costs = (
                    asked.costNanos(input: input, output: output), answered.costNanos(input: input, output: output)
                )
                if costs.0 > costs.1 { price = asked }
            }
            inputCost = price.costNanos(input: input, output: 0)
            outputCost = price.costNanos(input: 0, output: output)
            pricing.spend.charge(
                organization: facts.key.organizationID, project: facts.key.projectID,
                nanos: inputCost.addingSaturated(outputCost), now: now)
        }
        record(
            facts, model: model, failed: failed, prompt: prompt, completion: completion, inputCost: inputCost,
            outputCost: outputCost, now: now)
    }

    func record(
        _ facts: CallFacts, model: String? = nil, failed: Bool, prompt: Int = 0, completion: Int = 0,
        inputCost: Int64 = 0, outputCost: Int64 = 0, now: Date? = nil
    ) {
        let key = facts.key
        meter.record(
            MeteredCall(
                apiKeyID: key.id.rawValue, projectID: key.projectID?.rawValue ?? "",
                organizationID: key.organizationID.rawValue, category: facts.category,
                model: model ?? "", failed: failed, promptTokens: prompt,
                completionTokens: completion,
                inputCostNanos: inputCost, outputCostNanos: outputCost),
            at: now ?? clock.now())
    }

    /// 429 `rate_limit_exceeded` in OpenAI's shape, with the headers its SDKs back off by.
    static func refusal(
        _ status: RateLimiter.Status, retryAfter: Double, exhausted: RateLimiter.Scope, tokens: Bool, asked: Int
    ) -> Response {
        // Per-minute buckets never ask for more than a couple of minutes; the bound keeps the
        // conversions below finite whatever a bucket holds.
        let retryAfter = retryAfter.isFinite ? min(max(retryAfter, 0), 3600) : 3600
        let what =
            tokens
            ? "tokens per min (TPM): Limit \(status.limitTokens), Remaining \(status.remainingTokens), Requested \(asked)"
            : "requests per min (RPM): Limit \(status.limitRequests), Remaining \(status.remainingRequests), Requested 1"
        let error = DomainError(
            .rateLimited, code: .rateLimitExceeded,
            message:
                "Rate limit reached for \(exhausted.name) on \(what). Please try again in \(RateLimitDuration.format(retryAfter)).",
            retryAfterSeconds: max(1, Int(retryAfter.rounded(.up))))
        var headers = HTTPFields()
        status.write(to: &headers)
        headers[.retryAfterMilliseconds] = String(Int((retryAfter * 1000).rounded(.up)))
        return error.response(extraHeaders: headers)
    }

    /// Sends the call on to the upstream at `base`; the answer comes with its whole body when
    /// that was read before being sent on.
    func proxy(
        _ request: Request, collectedBody: ByteBuffer?, declaredLength length: Int?, to base: String,
        requestID: String, clientAddress: String?
    ) async throws -> (Response, whole: ByteBuffer?) {
        let hasNoBody = length == 0 || (length == nil && request.headers[.transferEncoding] == nil)
        let body: UpstreamRequest.Body =
            if let collectedBody {
                .inMemory(collectedBody)
            } else if hasNoBody {
                .empty
            } else {
                // A body without a declared length is counted as it streams and cut off past the limit.
                .streamed(BoundedBody(base: request.body, limit: maxRequestBody), length: length)
            }
        let outbound = UpstreamRequest(
            method: request.method, pathAndQuery: request.uri.path + (request.uri.query.map { "?" + $0 } ?? ""),
            headers: upstreamHeaders(for: request.headers, requestID: requestID, clientAddress: clientAddress),
            body: body)
        let answer: UpstreamAnswer
        do {
            answer = try await transport(for: outbound, to: base).forward(outbound)
        } catch is BoundedBody<RequestBody>.TooLarge {
            throw bodyTooLarge
        }
        let fields = Self.responseFields(answer.headers)
        switch answer.body {
        case .whole(let whole):
            return (Response(status: answer.status, headers: fields, body: ResponseBody(byteBuffer: whole)), whole)
        case .stream(let stream):
            return (Response(status: answer.status, headers: fields, body: stream), nil)
        }
    }

    /// The lean client, when there is one, carries calls whose body is in memory (or absent);
    /// AsyncHTTPClient carries streamed uploads and every call to a TLS upstream.
    func transport(for request: UpstreamRequest, to base: String) -> any UpstreamTransport {
        if let lean, request.body.isInMemory { return lean }
        return AsyncHTTPClientTransport(client: client, baseURL: base, maxBufferedAnswer: maxBufferedAnswer)
    }
}

extension HTTPField.Name {
    /// OpenAI's SDKs retry a 429 unless the answer says `x-should-retry: false`.
    static let shouldRetry = Self("x-should-retry")!
}
