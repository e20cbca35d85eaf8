"""The live room's chat: messages, questions, reactions, moderation and watch time."""
