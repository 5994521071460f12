import Crypto
import Foundation
import HummingbirdBcrypt
import KeywardenCore
import NIOPosix

extension PasswordHasher {
    /// bcrypt at `cost`, run on NIO's thread pool so hashing never blocks request handling.
    ///
    /// bcrypt reads only the first 72 bytes of its input, so the password is first reduced
    /// to the base64 of its SHA-256: every character of a long password counts.
    public static func bcrypt(cost: Int) -> PasswordHasher {
        let cost = UInt8(clamping: cost)
        return PasswordHasher(
            hash: { password in
                let input = prehash(password)
                return try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(input, cost: cost) }
            },
            verify: { password, hash in
                let input = prehash(password)
                return try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(input, hash: hash) }
            })
    }

    private static func prehash(_ password: String) -> String {
        Data(SHA256.hash(data: Data(password.utf8))).base64EncodedString()
    }
}
