import AsyncKit
import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresKit
import SQLKit
import SQLiteKit
import Synchronization

/// A pool of connections to the one database Keywarden uses, SQLite or PostgreSQL.
///
/// Repositories borrow a connection for each operation, or for a whole transaction.
/// The SQL they run is the same text on both backends; ``backend`` is the dialect flag
/// for the few places that differ.
public final class DatabaseClient: Sendable {
    /// Which database server is behind the pool.
    public enum Backend: String, Sendable {
        case sqlite
        case postgres
    }

    // SAFETY: async-kit's pools predate Sendable but are built for sharing across threads:
    // the group pool guards its state with a lock and each event-loop pool confines its
    // state to its own event loop, hopping there on every request and release.
    private enum Pool: @unchecked Sendable {
        case sqlite(EventLoopGroupConnectionPool<SQLiteConnectionSource>)
        case postgres(EventLoopGroupConnectionPool<PostgresConnectionSource>)
    }

    /// The backend, for dialect differences.
    public let backend: Backend
    private let pool: Pool
    private let logger: Logger
    /// The most connections the pool opens.
    public let maxConnections: Int
    private let using = Atomic<Int>(0)
    private let waiting = Atomic<Int>(0)

    private init(backend: Backend, pool: Pool, maxConnections: Int, logger: Logger) {
        self.backend = backend
        self.pool = pool
        self.maxConnections = maxConnections
        self.logger = Self.driverLogger(logger)
    }

    /// Connections held by callers now, and callers waiting for one, for the metrics.
    public var connectionUse: (inUse: Int, waiting: Int) {
        (using.load(ordering: .relaxed), waiting.load(ordering: .relaxed))
    }

    /// Takes a connection from `pool`, counted as waiting until it comes and in use until `body` ends.
    private func borrow<Source: ConnectionPoolSource, T: Sendable>(
        _ pool: EventLoopGroupConnectionPool<Source>, _ body: (Source.Connection) async throws -> T
    ) async throws -> T {
        waiting.add(1, ordering: .relaxed)
        let connection: Source.Connection
        do {
            connection = try await pool.requestConnection(logger: logger).get()
        } catch {
            waiting.subtract(1, ordering: .relaxed)
            throw error
        }
        waiting.subtract(1, ordering: .relaxed)
        using.add(1, ordering: .relaxed)
        defer {
            using.subtract(1, ordering: .relaxed)
            pool.releaseConnection(connection, logger: logger)
        }
        return try await body(connection)
    }

    /// Drivers log statements with their bound values at debug and trace level, and bound
    /// values include password hashes and phone numbers; so drivers get a logger that never
    /// goes below `info`, whatever level the server runs at.
    static func driverLogger(_ logger: Logger) -> Logger {
        var quieter = logger
        if quieter.logLevel < .info { quieter.logLevel = .info }
        return quieter
    }

    /// Opens an SQLite database file (created if missing) in WAL mode, or an in-memory
    /// database when `path` is `nil`.
    ///
    /// SQLite allows one writer at a time, so the pool holds a single connection and
    /// callers queue for it; this also keeps an in-memory database alive.
    public static func sqlite(path: String?, logger: Logger) async throws -> DatabaseClient {
        if let path { try restrictToOwner(path) }
        let storage: SQLiteConfiguration.Storage = path.map { .file(path: $0) } ?? .memory
        let pool = EventLoopGroupConnectionPool(
            source: SQLiteConnectionSource(configuration: .init(storage: storage, enableForeignKeys: true)),
            maxConnectionsPerEventLoop: 1,
            // Callers queue for the one connection; a burst waits its turn rather than failing
            // after the driver's default of 10 seconds.
            requestTimeout: .seconds(30),
            pruneInterval: nil,
            logger: driverLogger(logger),
            on: MultiThreadedEventLoopGroup.singleton.next())
        let client = DatabaseClient(backend: .sqlite, pool: .sqlite(pool), maxConnections: 1, logger: logger)
        try await client.withConnection { db in
            if path != nil {
                try await db.raw("PRAGMA journal_mode = WAL").run()
                try await db.raw("PRAGMA synchronous = NORMAL").run()
                // Erased rows (numbers and codes of ended verifications) are overwritten with
                // zeros, not left in free pages.
                try await db.raw("PRAGMA secure_delete = ON").run()
            }
            try await db.raw("PRAGMA busy_timeout = 5000").run()
        }
        return client
    }

    /// Creates the database file readable by its owner only, before SQLite opens it (its WAL and
    /// shared-memory files take the same permissions), and tightens files an earlier run left
    /// more open: they hold password hashes and, while verifications are pending, sealed numbers.
    static func restrictToOwner(_ path: String) throws {
        let descriptor = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw DatabaseOpenFailure(reason: "cannot create \(path): \(String(cString: strerror(errno)))")
        }
        close(descriptor)
        for file in [path, path + "-wal", path + "-shm"] {
            _ = chmod(file, 0o600)
        }
    }

    /// Why a database could not be used, in words that hold neither credentials nor data.
    public static func describeFailure(_ error: any Error) -> String {
        switch error {
        case let failure as DatabaseOpenFailure:
            return failure.reason
        case let postgres as PSQLError:
            switch postgres.code {
            case .server:
                return postgres.serverInfo?[.message] ?? "the server refused the request"
            case .connectionError:
                let underlying = postgres.underlying.map { " (\($0))" } ?? ""
                return "could not connect\(underlying); is PostgreSQL running there and reachable?"
            case .sslUnsupported:
                return "the server does not offer TLS; use sslmode=disable or enable TLS on the server"
            case .authMechanismRequiresPassword:
                return "the server wants a password; put it in the URL"
            default:
                return "the connection failed (\(postgres.code))"
            }
        case let io as IOError:
            return io.description
        default:
            return String(describing: type(of: error))
        }
    }

    /// Connects to PostgreSQL at a `postgres://` URL.
    ///
    /// Besides the driver's own query parameters (`sslmode`), the URL may carry
    /// `search_path=SCHEMA[,SCHEMA...]` to keep Keywarden's tables in their own schema.
    public static func postgres(
        url: String, maxConnectionsPerEventLoop: Int = 4, logger: Logger
    ) throws -> DatabaseClient {
        var configuration = try SQLPostgresConfiguration(url: url)
        if let searchPath = URLComponents(string: url)?.queryItems?.first(where: { $0.name == "search_path" })?.value {
            configuration.searchPath = searchPath.split(separator: ",").map(String.init)
        }
        let pool = EventLoopGroupConnectionPool(
            source: PostgresConnectionSource(sqlConfiguration: configuration),
            maxConnectionsPerEventLoop: maxConnectionsPerEventLoop,
            pruneInterval: .seconds(60),
            logger: driverLogger(logger),
            on: MultiThreadedEventLoopGroup.singleton)
        return DatabaseClient(
            backend: .postgres, pool: .postgres(pool),
            maxConnections: maxConnectionsPerEventLoop * System.coreCount, logger: logger)
    }

    /// Runs `body` with one connection from the pool.
    public func withConnection<T: Sendable>(
        _ body: @Sendable (any SQLDatabase) async throws -> T
    ) async throws -> T {
        switch pool {
        case .sqlite(let pool):
            return try await borrow(pool) { connection in try await body(connection.sql(queryLogLevel: nil)) }
        case .postgres(let pool):
            return try await borrow(pool) { connection in try await body(connection.sql(queryLogLevel: nil)) }
        }
    }

    /// Calls `onNotification` with the payload of every `NOTIFY` on `channel` until the task is
    /// cancelled or the connection fails, holding one pooled connection meanwhile. PostgreSQL
    /// only: on SQLite (one process) it returns at once.
    public func listen(
        on channel: String, _ onNotification: @escaping @Sendable (String) async -> Void
    ) async throws {
        guard case .postgres(let pool) = pool else { return }
        try await borrow(pool) { connection in
            try await connection.listen(on: channel) { notifications in
                for try await notification in notifications {
                    await onNotification(notification.payload)
                }
            }
        }
    }

    /// Runs `body` in a transaction on one connection: committed if it returns, rolled back
    /// if it throws, so no caller ever leaves a partial write.
    public func withTransaction<T: Sendable>(
        _ body: @Sendable (any SQLDatabase) async throws -> T
    ) async throws -> T {
        try await withConnection { db in
            // IMMEDIATE takes SQLite's write lock up front, so a transaction never fails
            // half-way when it upgrades from reading to writing.
            try await db.raw(backend == .sqlite ? "BEGIN IMMEDIATE" : "BEGIN").run()
            do {
                let result = try await body(db)
                try await db.raw("COMMIT").run()
                return result
            } catch {
                try? await db.raw("ROLLBACK").run()
                throw error
            }
        }
    }

    /// Whether the database answers a trivial query.
    public func isReachable() async -> Bool {
        do {
            try await withConnection { db in try await db.raw("SELECT 1").run() }
            return true
        } catch {
            return false
        }
    }

    /// Closes every connection.
    public func shutdown() async throws {
        switch pool {
        case .sqlite(let pool): try await pool.shutdownAsync()
        case .postgres(let pool): try await pool.shutdownAsync()
        }
    }
}

/// A database file that could not be created or opened.
struct DatabaseOpenFailure: Error {
    let reason: String
}
