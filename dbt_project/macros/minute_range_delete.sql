{#- The first step of an incremental minute-level run, as the model's pre-hook: delete the
    range the run rewrites, `column` >= the cutoff (session_date: minute_cutoff_session_date();
    bar_at: minute_cutoff_at()), whatever the new rows hold; the model then appends the
    range, recomputed from complete inputs. A range, not the keys of the new rows: a session
    whose bars all became rejected, or a day whose rejects became clean, leaves no stale row.
    A pre-hook, not incremental_predicates: a model's config is fixed when dbt parses it,
    while the cutoff is a literal read from {{ this }} when the model runs (the hook is
    rendered then, before anything is deleted, as the model's own select is). It runs inside
    the model's transaction. Nothing is deleted on a first or full-refresh build.
    It also records what the run rewrites in dbt_audit.minute_rewrites: the first session, or
    null for everything (a first or full-refresh build), which scopes the data tests of a
    daily `dbt build` to what the run rewrote (minute_test_scope). -#}
{% macro minute_range_delete(column) -%}
    {%- if is_incremental() -%}
        {%- set first_session = minute_cutoff_session_date() -%}
        delete from {{ this }}
        where {{ column }} >= {{ minute_cutoff_at(first_session) if column == 'bar_at' else first_session }};
    {%- endif %}
    insert into dbt_audit.minute_rewrites
    values ('{{ invocation_id }}', '{{ this.identifier }}', {{ first_session if is_incremental() else 'null' }}, now())
{%- endmacro %}
