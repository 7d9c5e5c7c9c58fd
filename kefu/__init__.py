"""Kefu: chatbot-first customer service. This package holds shared types and the composition root."""
