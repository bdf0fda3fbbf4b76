// Placeholder: codecs arrive in this module.
