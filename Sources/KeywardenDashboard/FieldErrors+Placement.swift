/// Sentences placed by a page itself, for refusals it words with what it knows (such as the
/// checks a verification has left).
extension FieldErrors {
    /// `sentence` next to the field `name`.
    init(field name: String, sentence: String) {
        self.fields = [name: sentence]
        self.form = nil
    }

    /// `sentence` above the form, about none of its fields.
    init(form sentence: String) {
        self.fields = [:]
        self.form = sentence
    }
}
