// Placeholder: Kafka protocol types arrive in this module.
