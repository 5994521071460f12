import Mustache

/// A keys table has a row per key and each row many fields: the row names them itself, so the
/// template engine finds each without reflecting on the row.
extension APIKeyRow: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "id": id
        case "name": self.name
        case "unnamed": unnamed
        case "redactedValue": redactedValue
        case "created": created
        case "lastUsed": lastUsed
        case "neverUsed": neverUsed
        case "expires": expires
        case "expiring": expiring
        case "ownerIsPerson": ownerIsPerson
        case "ownerIsServiceAccount": ownerIsServiceAccount
        case "ownerIsFormerMember": ownerIsFormerMember
        case "ownerName": ownerName
        case "ownerHasName": ownerHasName
        case "ownerEmail": ownerEmail
        case "permissionsAll": permissionsAll
        case "permissionsReadOnly": permissionsReadOnly
        case "permissionsRestricted": permissionsRestricted
        case "scopeList": scopeList
        case "formToken": formToken
        case "canChange": canChange
        case "disabled": disabled
        case "restrictedIPs": restrictedIPs
        case "allowedIPList": allowedIPList
        default: nil
        }
    }
}
