"""Conversations: the switchboard, customers and identities, transcripts, outbound delivery, realtime."""
