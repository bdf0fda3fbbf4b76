// Placeholder: the Kafka client arrives in this module.
