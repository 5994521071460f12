import Foundation
import Hummingbird
import KeywardenCore

/// A development upstream that answers OpenAI's chat completions (streaming and not), models
/// and embeddings itself, echoing the last user message, so a new install can show a whole call
/// without any other server. Not for production.
public struct EchoUpstream: Sendable {
    /// The one model it offers.
    public static let model = "echo-1"

    /// The time its answers give as `created`.
    let clock: Clock

    /// Creates the upstream.
    public init(clock: Clock = .live) {
        self.clock = clock
    }

    /// Answers a forwarded request.
    public func respond(to request: Request, path: String, maxBodySize: Int) async throws -> Response {
        switch (request.method, path) {
        case (.get, "/v1/models"), (.head, "/v1/models"):
            return json(
                #"{"object":"list","data":[{"id":"\#(Self.model)","object":"model","created":1730764800,"owned_by":"keywarden"}]}"#
            )
        case (.post, "/v1/chat/completions"):
            let body = try await request.body.collect(upTo: maxBodySize)
            return try chatCompletion(Data(body.readableBytesView))
        case (.post, "/v1/embeddings"):
            let body = try await request.body.collect(upTo: maxBodySize)
            return try embeddings(Data(body.readableBytesView))
        default:
            throw DomainError(
                .notFound, code: .unknownUrl,
                message: "The echo upstream answers GET /v1/models, POST /v1/chat/completions and POST /v1/embeddings.")
        }
    }

    struct ChatRequest: Decodable {
        struct Message: Decodable {
            let role: String
            let content: Content?
        }

        /// A message's content: text, or parts of which the text ones count.
        enum Content: Decodable {
            case text(String)
            case parts([Part])

            struct Part: Decodable {
                let type: String
                let text: String?
            }

            init(from decoder: any Decoder) throws {
                let container = try decoder.singleValueContainer()
                if let text = try? container.decode(String.self) {
                    self = .text(text)
                } else {
                    self = .parts(try container.decode([Part].self))
                }
            }

            var text: String {
                switch self {
                case .text(let text): text
                case .parts(let parts): parts.compactMap(\.text).joined(separator: " ")
                }
            }
        }

        struct StreamOptions: Decodable {
            let includeUsage: Bool?
            enum CodingKeys: String, CodingKey { case includeUsage = "include_usage" }
        }

        let model: String?
        let messages: [Message]
        let stream: Bool?
        let streamOptions: StreamOptions?

        enum CodingKeys: String, CodingKey {
            case model, messages, stream
            case streamOptions = "stream_options"
        }
    }

    func chatCompletion(_ data: Data) throws -> Response {
        let request: ChatRequest
        do {
            request = try JSONDecoder().decode(ChatRequest.self, from: data)
        } catch {
            throw DomainError(
                .invalidRequest, code: .invalidRequest, message: "Send {\"model\", \"messages\": [...]} as JSON.",
                param: "messages")
        }
        let prompt = request.messages.map { $0.content?.text ?? "" }.joined(separator: " ")
        let reply = request.messages.last { $0.role == "user" }?.content?.text ?? ""
        let promptTokens = Self.tokens(prompt)
        let completionTokens = Self.tokens(reply)
        let id = "chatcmpl-" + SecureRandom.base62(length: 24)
        let created = Int(clock.now().timeIntervalSince1970)
        let model = request.model ?? Self.model
        let usage =
            #"{"prompt_tokens":\#(promptTokens),"completion_tokens":\#(completionTokens),"total_tokens":\#(promptTokens + completionTokens)}"#
        guard request.stream == true else {
            return json(
                #"{"id":"\#(id)","object":"chat.completion","created":\#(created),"model":\#(Self.quote(model)),"choices":[{"index":0,"message":{"role":"assistant","content":\#(Self.quote(reply))},"finish_reason":"stop"}],"usage":\#(usage)}"#
            )
        }
        // One chunk per word, then the finish, the usage if asked for, and [DONE].
        var events: [String] = []
        let head =
            #"{"id":"\#(id)","object":"chat.completion.chunk","created":\#(created),"model":\#(Self.quote(model)),"#
        events.append(
            head + #""choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}"#)
        let words = reply.split(separator: " ", omittingEmptySubsequences: false)
        for (offset, word) in words.enumerated() {
            let piece = offset == 0 ? String(word) : " " + word
            events.append(
                head + #""choices":[{"index":0,"delta":{"content":\#(Self.quote(piece))},"finish_reason":null}]}"#)
        }
        events.append(head + #""choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#)
        if request.streamOptions?.includeUsage == true {
            events.append(head + #""choices":[],"usage":\#(usage)}"#)
        }
        events.append("[DONE]")
        let buffers = events.map { ByteBuffer(string: "data: \($0)\n\n") }
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
            body: ResponseBody(contentsOf: buffers))
    }

    struct EmbeddingRequest: Decodable {
        enum Input: Decodable {
            case one(String)
            case many([String])

            init(from decoder: any Decoder) throws {
                let container = try decoder.singleValueContainer()
                if let text = try? container.decode(String.self) {
                    self = .one(text)
                } else {
                    self = .many(try container.decode([String].self))
                }
            }

            var texts: [String] {
                switch self {
                case .one(let text): [text]
                case .many(let texts): texts
                }
            }
        }

        let input: Input
        let model: String?
    }

    func embeddings(_ data: Data) throws -> Response {
        guard let request = try? JSONDecoder().decode(EmbeddingRequest.self, from: data) else {
            throw DomainError(
                .invalidRequest, code: .invalidRequest, message: "Send {\"model\", \"input\"} as JSON.",
                param: "input")
        }
        let texts = request.input.texts
        let items = texts.enumerated().map { index, text in
            // A deterministic 8-dimension vector from the text's bytes.
            var vector = [Double](repeating: 0, count: 8)
            for (position, byte) in text.utf8.enumerated() { vector[position % 8] += Double(byte) / 255 }
            let norm = max(vector.map { $0 * $0 }.reduce(0, +).squareRoot(), 1e-9)
            let values = vector.map { String(format: "%.6f", $0 / norm) }.joined(separator: ",")
            return #"{"object":"embedding","index":\#(index),"embedding":[\#(values)]}"#
        }
        let tokens = texts.map(Self.tokens).reduce(0, +)
        return json(
            #"{"object":"list","data":[\#(items.joined(separator: ","))],"model":\#(Self.quote(request.model ?? Self.model)),"usage":{"prompt_tokens":\#(tokens),"total_tokens":\#(tokens)}}"#
        )
    }

    /// A rough token count: about four characters a token, at least one for non-empty text.
    static func tokens(_ text: String) -> Int {
        text.isEmpty ? 0 : max(1, (text.count + 3) / 4)
    }

    static func quote(_ text: String) -> String {
        let data = (try? JSONEncoder().encode(text)) ?? Data("\"\"".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    func json(_ text: String) -> Response {
        Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
