import Hummingbird
import KeywardenCore
import KeywardenHTTP

/// "Can't verify your phone?": `POST /v1/organization/support_requests` files a request (owners),
/// and `GET` lists them or shows one (every member), so the members see where it is.
public struct SupportRequestController: Sendable {
    let support: SupportService

    /// Creates the controller.
    public init(support: SupportService) {
        self.support = support
    }

    /// Registers the routes.
    public func addRoutes(to router: CatalogingRouter<KeywardenRequestContext>) {
        let requests = router.group("/v1/organization/support_requests", context: OrganizationContext.self)
        requests.post(use: file)
        requests.get(use: list)
        requests.get("{support_request_id}", use: show)
    }

    /// `{"reason": "no_mobile_phone", "details": "..."}`.
    struct FileBody: JSONRequestBody {
        static let fields: Set<String> = ["reason", "details"]
        let reason: String?
        let details: String?
    }

    @Sendable func file(
        _ request: Request, context: OrganizationContext
    ) async throws -> Created<SupportRequestObject> {
        let body = try await request.decodeBody(FileBody.self, context: context)
        let filed = try await support.file(
            reason: body.reason, details: body.details, membership: context.membership, user: context.identity.user,
            clientAddress: context.clientAddress)
        return Created(body: SupportRequestObject(filed))
    }

    /// The most requests one organization's list holds; a list longer than a page is paged in
    /// memory with `after`.
    static let listed = 500

    @Sendable func list(
        _ request: Request, context: OrganizationContext
    ) async throws -> ListObject<SupportRequestObject> {
        let requests = try await support.requests(for: context.membership, limit: Self.listed)
        return try ListObject<SupportRequestObject>.paging(
            requests.map(SupportRequestObject.init), id: \.id, request: request,
            cursor: { SupportRequestID($0) != nil }, expected: "a support request id")
    }

    @Sendable func show(_ request: Request, context: OrganizationContext) async throws -> SupportRequestObject {
        SupportRequestObject(
            try await support.request(try context.parameters.require("support_request_id"), for: context.membership))
    }
}
