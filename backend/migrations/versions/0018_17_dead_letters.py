"""Dead letters in heartbeats (issue 17): a kiosk reports how many records the backend refused for
good and the latest few with their reasons, so the bureau's console shows them.

Revision ID: 0018_dead_letters
Revises: 0017_visits
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0018_dead_letters"
down_revision = "0017_visits"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("kiosk_heartbeats", sa.Column("dead_letters", sa.Integer()))
    op.add_column("kiosk_heartbeats", sa.Column("dead_letter_detail", sa.Text()))


def downgrade() -> None:
    op.drop_column("kiosk_heartbeats", "dead_letter_detail")
    op.drop_column("kiosk_heartbeats", "dead_letters")
