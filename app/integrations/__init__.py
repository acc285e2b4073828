"""External systems: outbound webhooks through a transactional outbox (endpoints, deliveries,
attempts), delivered by the worker, signed per the Standard Webhooks spec."""
