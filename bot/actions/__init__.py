"""Custom actions the engine calls over HTTP (rasa-sdk), one module per concept."""
