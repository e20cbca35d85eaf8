"""Everything that leaves Shopcast (emails, webhooks), written in the transaction of the change that
causes it and sent afterwards by a worker (the transactional outbox)."""
