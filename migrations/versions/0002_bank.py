"""bank: accounts, statements, transactions, transaction occurrences, reports

Transactions survive the deletion of one of several overlapping statement files: their
document/statement links are ON DELETE SET NULL, occurrences CASCADE (see app/core/models/money.py).

Revision ID: 0002_bank
Revises: 0001
Create Date: 2026-11-25 03:11:02.138961
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0002_bank'
down_revision: str | Sequence[str] | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('institution', sa.Text(), nullable=True),
    sa.Column('number_masked', sa.String(length=64), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('type', sa.String(length=20), nullable=True),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounts')),
    sa.UniqueConstraint('key', name=op.f('uq_accounts_key'))
    )
    op.create_table('reports',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('period', sa.String(length=20), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('content', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('markdown', sa.Text(), nullable=False),
    sa.Column('html', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('emailed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reports')),
    sa.UniqueConstraint('kind', 'period', name='uq_reports_kind_period')
    )
    op.create_table('statements',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('document_id', sa.BigInteger(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('ordinal', sa.Integer(), nullable=False),
    sa.Column('format', sa.String(length=20), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=True),
    sa.Column('period_end', sa.Date(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('opening_balance', sa.Numeric(), nullable=True),
    sa.Column('closing_balance', sa.Numeric(), nullable=True),
    sa.Column('transaction_count', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('balance_status', sa.String(length=10), server_default=sa.text("'unknown'"), nullable=False),
    sa.Column('balance_difference', sa.Numeric(), nullable=True),
    sa.Column('metadata', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("balance_status IN ('ok','mismatch','unknown')", name=op.f('ck_statements_balance_status')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_statements_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_statements_document_id_documents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statements')),
    sa.UniqueConstraint('document_id', 'ordinal', name='uq_statements_document_ordinal')
    )
    op.create_index(op.f('ix_statements_account_id'), 'statements', ['account_id'], unique=False)
    op.create_table('transactions',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.BigInteger(), nullable=True),
    sa.Column('statement_id', sa.BigInteger(), nullable=True),
    sa.Column('booking_date', sa.Date(), nullable=False),
    sa.Column('value_date', sa.Date(), nullable=True),
    sa.Column('amount', sa.Numeric(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('counterparty', sa.Text(), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('merchant', sa.Text(), nullable=True),
    sa.Column('bank_ref', sa.Text(), nullable=True),
    sa.Column('type', sa.String(length=40), nullable=True),
    sa.Column('status', sa.String(length=10), server_default=sa.text("'booked'"), nullable=False),
    sa.Column('dedup_key', sa.Text(), nullable=False),
    sa.Column('category', sa.String(length=100), nullable=True),
    sa.Column('category_rule', sa.Text(), nullable=True),
    sa.Column('suggested_category', sa.String(length=100), nullable=True),
    sa.Column('page', sa.Integer(), nullable=True),
    sa.Column('line', sa.Integer(), nullable=True),
    sa.Column('row', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('booked','pending')", name=op.f('ck_transactions_status')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_transactions_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_transactions_document_id_documents'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['statement_id'], ['statements.id'], name=op.f('fk_transactions_statement_id_statements'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transactions')),
    sa.UniqueConstraint('account_id', 'dedup_key', name='uq_transactions_account_dedup')
    )
    op.create_index('ix_transactions_account_date', 'transactions', ['account_id', 'booking_date'], unique=False)
    op.create_index('ix_transactions_booking_date', 'transactions', ['booking_date'], unique=False)
    op.create_index('ix_transactions_category', 'transactions', ['category'], unique=False)
    op.create_index(op.f('ix_transactions_document_id'), 'transactions', ['document_id'], unique=False)
    op.create_index('ix_transactions_merchant', 'transactions', ['merchant'], unique=False)
    op.create_index(op.f('ix_transactions_statement_id'), 'transactions', ['statement_id'], unique=False)
    op.create_table('transaction_occurrences',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('transaction_id', sa.BigInteger(), nullable=False),
    sa.Column('document_id', sa.BigInteger(), nullable=False),
    sa.Column('statement_id', sa.BigInteger(), nullable=False),
    sa.Column('page', sa.Integer(), nullable=True),
    sa.Column('line', sa.Integer(), nullable=True),
    sa.Column('row', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_transaction_occurrences_document_id_documents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['statement_id'], ['statements.id'], name=op.f('fk_transaction_occurrences_statement_id_statements'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['transaction_id'], ['transactions.id'], name=op.f('fk_transaction_occurrences_transaction_id_transactions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transaction_occurrences')),
    sa.UniqueConstraint('statement_id', 'transaction_id', name='uq_transaction_occurrences_statement_tx')
    )
    op.create_index(op.f('ix_transaction_occurrences_document_id'), 'transaction_occurrences', ['document_id'], unique=False)
    op.create_index(op.f('ix_transaction_occurrences_transaction_id'), 'transaction_occurrences', ['transaction_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_transaction_occurrences_transaction_id'), table_name='transaction_occurrences')
    op.drop_index(op.f('ix_transaction_occurrences_document_id'), table_name='transaction_occurrences')
    op.drop_table('transaction_occurrences')
    op.drop_index(op.f('ix_transactions_statement_id'), table_name='transactions')
    op.drop_index('ix_transactions_merchant', table_name='transactions')
    op.drop_index(op.f('ix_transactions_document_id'), table_name='transactions')
    op.drop_index('ix_transactions_category', table_name='transactions')
    op.drop_index('ix_transactions_booking_date', table_name='transactions')
    op.drop_index('ix_transactions_account_date', table_name='transactions')
    op.drop_table('transactions')
    op.drop_index(op.f('ix_statements_account_id'), table_name='statements')
    op.drop_table('statements')
    op.drop_table('reports')
    op.drop_table('accounts')
