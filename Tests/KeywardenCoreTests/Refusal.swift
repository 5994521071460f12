import KeywardenCore
import Testing

/// The refusal `body` throws, or `nil` when it returns; any other error fails the test.
func refusalError<T>(_ body: () async throws -> T) async -> DomainError? {
    do {
        _ = try await body()
        return nil
    } catch let error as DomainError {
        return error
    } catch {
        Issue.record("expected a DomainError, got \(error)")
        return nil
    }
}

/// The code of a refusal, as these tests compare codes: the one place that reads
/// `DomainError.code`.
func refusalCode(of error: DomainError?) -> String? {
    error?.code.rawValue
}

/// The code of the refusal `body` throws, or `nil` when it returns.
func refusal<T>(_ body: () async throws -> T) async -> String? {
    refusalCode(of: await refusalError(body))
}
