/// Sentences the phone step words itself, with what it knows of the operator's settings.
extension PageSentences {
    /// A code asked for by WhatsApp (or by a channel that does not exist) for a number that may
    /// only get one by text message; `offered` lists the countries WhatsApp is offered for, if any.
    static func whatsappNotOffered(offered: String?) -> String {
        guard let offered else {
            return "Codes are sent by text message only. Send the form again to get one that way."
        }
        return "WhatsApp is offered only for numbers from \(offered). "
            + "Choose Text message (SMS) for this number, or use a number from one of those countries."
    }
}
