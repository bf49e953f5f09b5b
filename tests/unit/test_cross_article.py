"""The merging rules of the cross-article views, on hand-built extractions written to a real database
(SQLite and PostgreSQL) through the batch store's finish step, and read back page by page."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from factline.batch_store import BatchStore
from factline.cross_names import cross_name
from factline.database import alembic_config, create_engine, factline_owns, sessions, upgrade_to_head
from factline.tables import Base
from factline.view_queries import CrossArticleViews, ViewFilter
from schemas import Actor, ActorKind, Extraction, MatchKind, Span
from schemas.views import TrackedProposal
from tests.views_support import Article, add_batch

DEC = {day: dt.date(2025, 12, day) for day in range(1, 32)}


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[BatchStore]:
    if request.param == "postgresql":
        url = str(request.getfixturevalue("postgres_url"))
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'views.db'}"
    engine = create_engine(url)
    await upgrade_to_head(engine)
    yield BatchStore(sessions(engine), lease_seconds=30)
    await engine.dispose()


@pytest.fixture
def views(store: BatchStore) -> CrossArticleViews:
    return CrossArticleViews(store.sessions)


def quoted(article_id: str, published: dt.date, name: str, words: str, **actor: object) -> Extraction:
    article = Article(article_id, f"{name} said: {words}.", published)
    speaker = article.actor(name, **actor)  # type: ignore[arg-type]
    article.quote(words, speaker)
    return article.extraction()


def test_titles_and_roles_in_front_of_a_name_are_not_the_name() -> None:
    def actor(name: str, roles: list[str], mentions: list[str] = []) -> Actor:  # noqa: B006
        spans = [Span(start=0, end=len(m), text=m, match=MatchKind.EXACT, score=100) for m in mentions]
        return Actor(id="actor_1", name=name, kind=ActorKind.PERSON, roles=roles, mentions=spans)

    titled = cross_name(actor("German Defense Minister Boris Pistorius", ["defense minister"]))
    assert (titled.key, titled.name, titled.surname, titled.title) == (
        "boris pistorius",
        "Boris Pistorius",
        "pistorius",
        "German Defense Minister",
    )
    assert cross_name(actor("EU foreign affairs and security chief Kaja Kallas", [])).key == "kaja kallas"
    assert cross_name(actor("Ursula von der Leyen", [])).key == "ursula von der leyen"
    assert cross_name(actor("the defence minister", [])).key is None  # a title is nobody across articles
    named = cross_name(actor("German Defense Minister", [], ["Pistorius", "Boris Pistorius"]))
    assert (named.key, named.named_by) == ("boris pistorius", "Boris Pistorius")
    assert cross_name(actor("Pistorius", [])).is_lone_name


async def test_people_sharing_a_surname_are_not_merged(store: BatchStore, views: CrossArticleViews) -> None:
    batch = await add_batch(
        store,
        [
            quoted("a", DEC[1], "Boris Pistorius", "We must be ready"),
            quoted("b", DEC[2], "Anna Pistorius", "The harbour reopens"),
            quoted("c", DEC[3], "Pistorius", "Nothing is decided"),
        ],
    )
    page = await views.actors(ViewFilter((batch,)), None, 10)
    by_key = {actor.key: actor for actor in page.actors}
    assert sorted(by_key) == ["anna pistorius", "boris pistorius", "pistorius"]
    assert [q.text for q in by_key["boris pistorius"].quotes] == ["We must be ready"]
    assert [q.text for q in by_key["anna pistorius"].quotes] == ["The harbour reopens"]
    [lone] = by_key["pistorius"].names
    assert (
        lone.reason == "first seen as “Pistorius”; not merged: “Pistorius” is the surname of several people"
    )


async def test_a_surname_alone_joins_the_only_person_of_that_name(
    store: BatchStore, views: CrossArticleViews
) -> None:
    first = await add_batch(store, [quoted("a", DEC[1], "Volodymyr Zelensky", "We will not give up")])
    second = await add_batch(store, [quoted("b", DEC[5], "Zelensky", "Talks were productive")])
    page = await views.actors(ViewFilter((first, second)), None, 10)
    [zelensky] = page.actors
    assert zelensky.key == "volodymyr zelensky"
    assert [(q.date, q.text, q.source.article_id) for q in zelensky.quotes] == [
        (DEC[1], "We will not give up", "a"),
        (DEC[5], "Talks were productive", "b"),
    ]
    assert zelensky.article_count == 2
    reasons = {name.name: name.reason for name in zelensky.names}
    assert reasons["Zelensky"] == "“Zelensky” alone: the only person of that surname in the archive"
    only_second = await views.actors(ViewFilter((second,)), None, 10)
    assert [q.text for q in only_second.actors[0].quotes] == ["Talks were productive"]


async def test_a_surname_filed_first_is_taken_over_by_the_first_full_name(
    store: BatchStore, views: CrossArticleViews
) -> None:
    batch = await add_batch(
        store,
        [
            quoted("a", DEC[1], "Merz", "Europe must act"),
            quoted("b", DEC[2], "Friedrich Merz", "We stand with Kyiv"),
        ],
    )
    [merz] = (await views.actors(ViewFilter((batch,)), None, 10)).actors
    assert merz.key == "friedrich merz"
    assert [q.text for q in merz.quotes] == ["Europe must act", "We stand with Kyiv"]
    assert "filed earlier, merged" in {n.name: n.reason for n in merz.names}["Merz"]


async def test_a_backer_filed_under_a_surname_moves_with_it_to_the_full_name(
    store: BatchStore, views: CrossArticleViews
) -> None:
    first = Article("a", "Merz proposed a reassurance force plan.", DEC[1])
    first.proposal("Merz proposed a reassurance force plan", "reassurance force plan", [first.actor("Merz")])
    second = Article("b", "Friedrich Merz backed the reassurance force plan.", DEC[2])
    merz = second.actor("Friedrich Merz")
    second.proposal(
        "Friedrich Merz backed the reassurance force plan", "reassurance force plan", supporters=[merz]
    )
    batch = await add_batch(store, [first.extraction(), second.extraction()])

    [plan] = (await views.proposals(ViewFilter((batch,)), None, 10)).proposals
    assert backing(plan) == [
        ("proposer", "friedrich merz", DEC[1], DEC[1], 1),
        ("supporter", "friedrich merz", DEC[2], DEC[2], 1),
    ]


async def test_a_title_alone_is_nobody_across_articles(store: BatchStore, views: CrossArticleViews) -> None:
    batch = await add_batch(
        store,
        [
            quoted("a", DEC[1], "the defence minister", "Troops stay home", roles=["defence minister"]),
            quoted("b", DEC[2], "Boris Pistorius", "We must be ready", roles=["defence minister"]),
        ],
    )
    [pistorius] = (await views.actors(ViewFilter((batch,)), None, 10)).actors
    assert pistorius.key == "boris pistorius"
    assert [q.text for q in pistorius.quotes] == ["We must be ready"]


async def test_one_event_from_several_articles_and_the_date_that_disagrees(
    store: BatchStore, views: CrossArticleViews
) -> None:
    articles = []
    for article_id, published, when, start, end in [
        ("a", DEC[16], "On December 14–15", DEC[14], DEC[15]),
        ("b", DEC[15], "On Monday", DEC[15], None),
        ("c", DEC[20], "On December 16", DEC[16], None),
    ]:
        article = Article(article_id, f"{when} Zelensky held talks in Berlin with US envoys.", published)
        zelensky = article.actor("Zelensky")
        article.event(
            f"{when} Zelensky held talks in Berlin with US envoys",
            "Zelensky held talks with US envoys",
            start,
            end,
            when,
            "Berlin",
            [zelensky],
        )
        articles.append(article)
    other = Article(
        "d", "On December 15 a storm hit Oslo. On December 15 Berlin zoo opened a panda house.", DEC[16]
    )
    other.event("On December 15 a storm hit Oslo", "A storm hit Oslo", DEC[15], location="Oslo")
    other.event(
        "On December 15 Berlin zoo opened a panda house",
        "Zoo opened a panda house",
        DEC[15],
        None,
        "On December 15",
        "Berlin",
    )
    batch = await add_batch(store, [*(a.extraction() for a in articles), other.extraction()])

    events = (await views.timeline(ViewFilter((batch,)), None, 10)).events
    [talks] = [event for event in events if len(event.sources) > 1]
    assert [s.source.article_id for s in talks.sources] == ["a", "b", "c"]
    by_article = {s.source.article_id: s for s in talks.sources}
    assert (talks.date, talks.date_end) == (DEC[14], DEC[15])
    assert by_article["a"].date_text == "On December 14–15"
    assert not by_article["a"].date_disagrees
    assert not by_article["b"].date_disagrees  # Monday the 15th is within 14–15
    assert by_article["c"].date_disagrees  # the 16th is not
    assert talks.dates_disagree
    assert [p.key for p in talks.participants] == ["zelensky"]
    assert all("same location “Berlin”" in reason for reason in talks.merge_reasons)
    assert sorted(e.summary for e in events if len(e.sources) == 1) == [
        "A storm hit Oslo",
        "Zoo opened a panda house",
    ]


async def test_the_timeline_pages_through_every_event_once(
    store: BatchStore, views: CrossArticleViews
) -> None:
    articles = []
    for day in range(1, 13):
        article = Article(f"a{day}", f"On day {day} the council met in Town{day}.", DEC[day])
        article.event(
            f"On day {day} the council met in Town{day}",
            f"Council meeting {day}",
            DEC[day],
            location=f"Town{day}",
        )
        articles.append(article.extraction())
    undated = Article("u", "Some day the council will meet again.", None)
    undated.event("Some day the council will meet again", "Council to meet again", None)
    batch = await add_batch(store, [*articles, undated.extraction()])
    whole = (await views.timeline(ViewFilter((batch,)), None, 100)).events
    assert [e.summary for e in whole] == [f"Council meeting {d}" for d in range(1, 13)] + [
        "Council to meet again"
    ]
    seen, cursor = [], None
    while True:
        page = await views.timeline(ViewFilter((batch,)), cursor, 5)
        seen += [event.summary for event in page.events]
        if (cursor := page.next_cursor) is None:
            break
    assert seen == [e.summary for e in whole]
    window = await views.timeline(ViewFilter((batch,), since=DEC[3], until=DEC[4]), None, 100)
    assert [e.summary for e in window.events] == ["Council meeting 3", "Council meeting 4"]


async def test_a_change_of_stance_is_highlighted(store: BatchStore, views: CrossArticleViews) -> None:
    articles = []
    for article_id, published, stance, words in [
        ("jan", dt.date(2025, 1, 10), "support", "Kallas backs the reassurance force"),
        ("mar", dt.date(2025, 3, 10), "support", "Kallas still backs the reassurance force"),
        ("jun", dt.date(2025, 6, 10), "oppose", "Kallas now rejects the reassurance force"),
    ]:
        article = Article(article_id, words + ".", published)
        kallas_id = article.actor("Kaja Kallas", mentions=["Kallas"])
        article.position(words, kallas_id, "European reassurance force", stance)
        articles.append(article.extraction())
    batch = await add_batch(store, list(reversed(articles)))
    [kallas] = (await views.positions(ViewFilter((batch,)), None, 10)).actors
    assert kallas.actor.key == "kaja kallas"
    [topic] = kallas.topics
    assert topic.changed
    assert [(s.date.month if s.date else None, s.stance, s.changed) for s in topic.stances] == [
        (1, "support", False),
        (3, "support", False),
        (6, "oppose", True),
    ]


async def test_a_proposal_is_tracked_across_articles_with_its_backers(
    store: BatchStore, views: CrossArticleViews
) -> None:
    first = Article("a", "The United States proposed a 20-point peace plan.", DEC[1])
    us = first.actor("United States", kind="country")
    first.proposal("proposed a 20-point peace plan", "20-point peace plan", proposers=[us])
    second = Article(
        "b", "Zelensky backed the US 20-point peace plan for Ukraine; Moscow rejected it.", DEC[8]
    )
    zelensky = second.actor("Zelensky")
    moscow = second.actor("Moscow", kind="country")
    second.proposal(
        "Zelensky backed the US 20-point peace plan for Ukraine",
        "the US 20-point peace plan for Ukraine",
        supporters=[zelensky],
        opponents=[moscow],
        status="under_negotiation",
    )
    third = Article("c", "A plan for grain exports was agreed.", DEC[9])
    third.proposal("A plan for grain exports was agreed", "plan for grain exports", status="accepted")
    batch = await add_batch(store, [first.extraction(), second.extraction(), third.extraction()])

    proposals = (await views.proposals(ViewFilter((batch,)), None, 10)).proposals
    assert [p.summary for p in proposals] == ["20-point peace plan", "plan for grain exports"]
    plan = proposals[0]
    assert [(b.actor.key, b.first_date, b.reports) for b in plan.proposers] == [("united states", DEC[1], 1)]
    assert [(b.actor.key, b.first_date) for b in plan.supporters] == [("zelensky", DEC[8])]
    assert plan.report_count == 2
    assert [b.actor.key for b in plan.opponents] == ["moscow"]
    assert [(r.date, r.status) for r in plan.history] == [(DEC[1], "proposed"), (DEC[8], "under_negotiation")]
    assert plan.status == "under_negotiation"
    assert plan.history[1].match.startswith("same proposal as “20-point peace plan”")
    by_actor = await views.proposals(ViewFilter((batch,), actor="zelensky"), None, 10)
    assert [p.summary for p in by_actor.proposals] == ["20-point peace plan"]


async def test_an_undated_report_joins_an_event_of_the_week_before_in_the_same_place(
    store: BatchStore, views: CrossArticleViews
) -> None:
    dated = Article("dated", "On December 14 leaders held talks in Berlin on a ceasefire.", DEC[16])
    dated.event(
        "On December 14 leaders held talks in Berlin on a ceasefire",
        "Leaders held ceasefire talks",
        DEC[14],
        None,
        "On December 14",
        "Berlin",
    )
    texts = {
        "same-place": ("The talks on a ceasefire in Berlin were tense.", "Berlin", DEC[18]),
        "no-place": ("The talks on a ceasefire were tense.", None, DEC[18]),
        "too-late": ("The talks on a ceasefire in Berlin were long.", "Berlin", DEC[30]),
        "before": ("Talks on a ceasefire in Berlin are planned.", "Berlin", DEC[10]),
    }
    undated = []
    for article_id, (text, location, published) in texts.items():
        article = Article(article_id, text, published)
        article.event(text.rstrip("."), "Ceasefire talks", None, location=location)
        undated.append(article.extraction())
    batch = await add_batch(store, [dated.extraction(), *undated])

    events = (await views.timeline(ViewFilter((batch,)), None, 10)).events
    [talks] = [event for event in events if len(event.sources) > 1]
    assert [s.source.article_id for s in talks.sources] == ["dated", "same-place"]
    assert talks.merge_reasons == [
        "same-place: undated, reported on 2025-12-18, within a week after 2025-12-14; "
        "same location “Berlin”; text similarity 83"
    ]
    assert (talks.date, talks.sources[1].date, talks.dates_disagree) == (DEC[14], None, False)
    # Undated reports stand at their article's publication day: oldest first.
    assert [e.sources[0].source.article_id for e in events] == ["before", "dated", "no-place", "too-late"]


def backing(proposal: TrackedProposal) -> list[tuple[str, str, dt.date | None, dt.date | None, int]]:
    return [
        (role, b.actor.key, b.first_date, b.last_date, b.reports)
        for role, found in [("proposer", proposal.proposers), ("supporter", proposal.supporters)]
        for b in found
    ] + [("opponent", b.actor.key, b.first_date, b.last_date, b.reports) for b in proposal.opponents]


def plan_reports() -> list[list[Extraction]]:
    """Four reports of one plan in two batches, out of date order, one undated."""
    reports = []
    for article_id, published in [("late", DEC[20]), ("undated", None), ("mid", DEC[10]), ("early", DEC[2])]:
        article = Article(
            article_id, "Paris backed the reassurance force plan; Moscow opposed it.", published
        )
        paris, moscow = article.actor("Paris", kind="country"), article.actor("Moscow", kind="country")
        article.proposal(
            "Paris backed the reassurance force plan",
            "reassurance force plan",
            proposers=[paris] if article_id == "early" else [],
            supporters=[paris],
            opponents=[moscow],
            status={"late": "under_negotiation", "undated": "rejected"}.get(article_id, "proposed"),
        )
        reports.append(article.extraction())
    return [reports[:1], reports[1:]]


async def test_a_proposals_backers_are_tallied_as_reports_arrive(
    store: BatchStore, views: CrossArticleViews
) -> None:
    batches = tuple([await add_batch(store, extractions) for extractions in plan_reports()])

    [plan] = (await views.proposals(ViewFilter(batches), None, 10)).proposals
    assert backing(plan) == [
        ("proposer", "paris", DEC[2], DEC[2], 1),
        ("supporter", "paris", DEC[2], DEC[20], 4),
        ("opponent", "moscow", DEC[2], DEC[20], 4),
    ]
    assert [report.date for report in plan.history] == [DEC[2], DEC[10], DEC[20], None]  # undated last
    assert plan.report_count == 4
    assert plan.status == "under_negotiation"  # the latest dated report, not the undated one
    # The tallies give what counting the reports gives (the path a topic or date filter takes).
    [counted] = (await views.proposals(ViewFilter(batches, topic="reassurance"), None, 10)).proposals
    assert backing(counted) == backing(plan)
    [second_batch] = (await views.proposals(ViewFilter(batches[1:]), None, 10)).proposals
    assert backing(second_batch) == [
        ("proposer", "paris", DEC[2], DEC[2], 1),
        ("supporter", "paris", DEC[2], DEC[10], 3),
        ("opponent", "moscow", DEC[2], DEC[10], 3),
    ]


def _to_revision(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, revision)


async def test_upgrading_a_database_tallies_the_backers_it_already_holds(
    store: BatchStore, views: CrossArticleViews
) -> None:
    batches = tuple([await add_batch(store, extractions) for extractions in plan_reports()])
    [before] = (await views.proposals(ViewFilter(batches), None, 10)).proposals
    engine = store.sessions.kw["bind"]
    async with engine.begin() as connection:
        await connection.run_sync(_to_revision, "0003_cross_article_views")  # drops the tallies
    await upgrade_to_head(engine)

    [after] = (await views.proposals(ViewFilter(batches), None, 10)).proposals
    assert backing(after) == backing(before)
    assert len(backing(after)) == 3


async def test_the_migrations_build_the_tables_the_code_declares(store: BatchStore) -> None:
    def differences(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"include_name": factline_owns})
        return list(compare_metadata(context, Base.metadata))

    async with store.sessions.kw["bind"].connect() as connection:
        assert await connection.run_sync(differences) == []
