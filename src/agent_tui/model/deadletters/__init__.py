"""Dead-letter queues read read-only, and watched for changes by live views."""
