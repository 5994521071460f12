import Foundation
import KeywardenCore
import SQLKit

/// Authenticator secrets (sealed) and recovery codes (as HMACs) in SQL.
public struct SQLTwoFactorRepository: TwoFactorRepository {
    let database: DatabaseClient

    /// Creates the repository over a database.
    public init(database: DatabaseClient) {
        self.database = database
    }

    public func credential(of user: UserID) async throws -> TOTPCredential? {
        try await database.withConnection { db in
            try await db.raw(
                """
                SELECT user_id, sealed_secret, created_at, confirmed_at, last_used_step FROM totp_credentials
                WHERE user_id = \(bind: user.rawValue)
                """
            ).first().map { row in
                TOTPCredential(
                    userID: UserID(unchecked: try row.string("user_id")),
                    sealedSecret: try row.string("sealed_secret"), createdAt: try row.date("created_at"),
                    confirmedAt: try row.optionalDate("confirmed_at"),
                    lastUsedStep: try row.decode(column: "last_used_step", as: Int64?.self))
            }
        }
    }

    public func savePending(_ credential: TOTPCredential) async throws -> Bool {
        try await database.withConnection { db in
            // One statement: a confirmed credential is never replaced by a pending one.
            try await db.raw(
                """
                INSERT INTO totp_credentials (user_id, sealed_secret, created_at, confirmed_at, last_used_step)
                VALUES (\(bind: credential.userID.rawValue), \(bind: credential.sealedSecret),
                        \(bind: credential.createdAt.unixMilliseconds), NULL, NULL)
                ON CONFLICT (user_id) DO UPDATE SET sealed_secret = excluded.sealed_secret,
                    created_at = excluded.created_at, last_used_step = NULL
                WHERE totp_credentials.confirmed_at IS NULL
                RETURNING user_id
                """
            ).first() != nil
        }
    }

    public func confirm(
        user: UserID, pendingCreatedAt: Date, at now: Date, step: Int64, recoveryCodeDigests: [String]
    ) async throws -> Bool {
        try await database.withTransaction { db in
            let confirmed =
                try await db.raw(
                    """
                    UPDATE totp_credentials SET confirmed_at = \(bind: now.unixMilliseconds), last_used_step = \(bind: step)
                    WHERE user_id = \(bind: user.rawValue) AND confirmed_at IS NULL
                        AND created_at = \(bind: pendingCreatedAt.unixMilliseconds)
                    RETURNING user_id
                    """
                ).first() != nil
            guard confirmed else { return false }
            try await Self.replaceCodes(of: user, with: recoveryCodeDigests, at: now, on: db)
            return true
        }
    }

    public func useStep(_ step: Int64, of user: UserID) async throws -> Bool {
        try await database.withConnection { db in
            // One conditional statement: of two simultaneous uses of one code, one gets through.
            try await db.raw(
                """
                UPDATE totp_credentials SET last_used_step = \(bind: step)
                WHERE user_id = \(bind: user.rawValue) AND confirmed_at IS NOT NULL
                    AND (last_used_step IS NULL OR last_used_step < \(bind: step))
                RETURNING user_id
                """
            ).first() != nil
        }
    }

    public func useRecoveryCode(digest: String, of user: UserID, at now: Date) async throws -> Bool {
        try await database.withConnection { db in
            try await db.raw(
                """
                UPDATE recovery_codes SET used_at = \(bind: now.unixMilliseconds)
                WHERE user_id = \(bind: user.rawValue) AND code_digest = \(bind: digest) AND used_at IS NULL
                RETURNING user_id
                """
            ).first() != nil
        }
    }

    public func replaceRecoveryCodes(of user: UserID, with digests: [String], at now: Date) async throws -> Bool {
        try await database.withTransaction { db in
            let enabled =
                try await db.raw(
                    """
                    SELECT user_id FROM totp_credentials
                    WHERE user_id = \(bind: user.rawValue) AND confirmed_at IS NOT NULL
                    """
                ).first() != nil
            guard enabled else { return false }
            try await Self.replaceCodes(of: user, with: digests, at: now, on: db)
            return true
        }
    }

    public func unusedRecoveryCodes(of user: UserID) async throws -> Int {
        try await database.withConnection { db in
            let row = try await db.raw(
                """
                SELECT COUNT(*) AS unused FROM recovery_codes
                WHERE user_id = \(bind: user.rawValue) AND used_at IS NULL
                """
            ).first()
            return Int(try row?.decode(column: "unused", as: Int64.self) ?? 0)
        }
    }

    public func remove(of user: UserID) async throws -> Bool {
        try await database.withTransaction { db in
            try await db.raw("DELETE FROM recovery_codes WHERE user_id = \(bind: user.rawValue)").run()
            return try await db.raw(
                "DELETE FROM totp_credentials WHERE user_id = \(bind: user.rawValue) RETURNING user_id"
            ).first() != nil
        }
    }

    private static func replaceCodes(
        of user: UserID, with digests: [String], at now: Date, on db: any SQLDatabase
    )
        async throws
    {
        try await db.raw("DELETE FROM recovery_codes WHERE user_id = \(bind: user.rawValue)").run()
        for digest in digests {
            try await db.raw(
                """
                INSERT INTO recovery_codes (user_id, code_digest, created_at, used_at)
                VALUES (\(bind: user.rawValue), \(bind: digest), \(bind: now.unixMilliseconds), NULL)
                """
            ).run()
        }
    }
}
