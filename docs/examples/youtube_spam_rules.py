"""Spam rules for YouTube comments (CLASS: 0 = ham, 1 = spam), Snorkel-tutorial style."""

from truelabel.sources import keyword_lf, labeling_function, regex_lf

CLASSES = [0, 1]

check_out = regex_lf(r"check\s+(?:it\s+)?out", 1, column="CONTENT", name="check_out")
my_channel = keyword_lf(
    ["my channel", "my video", "my page"], 1, column="CONTENT", name="my_channel"
)
subscribe = keyword_lf(["subscribe", "sub"], 1, column="CONTENT", name="subscribe")
link = regex_lf(r"https?://|www\.|\.com\b", 1, column="CONTENT", name="link")
please = keyword_lf(["please", "plz", "pls"], 1, column="CONTENT", name="please")
song = keyword_lf(["song", "love this", "best", "beautiful"], 0, column="CONTENT", name="song")


@labeling_function
def short_comment(df):
    """Ham: short comments ("cool video!")."""
    words = df["CONTENT"].fillna("").str.split().str.len()
    return words.lt(5).map({True: 0, False: None})


@labeling_function(per_row=True)
def views_count(row):
    """Ham: comments about view counts ("2 billion views")."""
    return 0 if "views" in row.CONTENT.lower() and "billion" in row.CONTENT.lower() else None
