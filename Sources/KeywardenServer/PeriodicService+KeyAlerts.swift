import KeywardenCore
import Logging

extension PeriodicService {
    /// Looks for unusual use of API keys every five minutes and mails the owners of each key
    /// with a new alert (`anomaly_alerts`).
    static func keyAlertDetector(_ alerts: KeyAlertService, logger: Logger) -> PeriodicService {
        PeriodicService(name: "look for unusual key use", interval: .seconds(300), logger: logger) {
            _ = try await alerts.detect()
        }
    }
}
