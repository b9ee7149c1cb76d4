"""Messages on RabbitMQ: the broker and its middleware, process start-up, in-process workers,
confirmed bulk publishing."""
