"""Satisfaction after resolution (满意度): the user's survey answer, the second handling a low
score starts, and CSAT/NPS summed per agent, team, category and channel."""
