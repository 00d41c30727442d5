"""The logging library agents emit through: JSON formatter, trace context, rotating files, Loki."""
