from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry

from app.api import permissions
from app.api.context import Info
from app.api.leaderboards.inputs import CreateLeaderboardInput, UpdateLeaderboardInput
from app.api.leaderboards.types import Leaderboard, LeaderboardStandings, UserLeaderboard
from app.domain import leaderboard_admin as admin
from app.domain import leaderboard_views as views
from app.domain import leaderboards as domain
from app.domain.model import Caller, User


async def readable_board(info: Info, caller: Caller, key: str) -> domain.Leaderboard | None:
    """Null for a board the caller may not read, as for one that does not exist."""
    boards = await info.context.services.definitions.leaderboards(caller.tenant_id)
    now = info.context.services.clock()
    for board in boards:
        if board.key == key:
            return board if views.readable(board, now, admin=caller.is_admin) else None
    return None


async def reader_zone(info: Info, caller: Caller, around_user_id: str | None) -> str | None:
    """Whose today picks the run of a board read in each user's zone: the user paged around,
    else the user token's user, else nobody's (UTC)."""
    user_id = around_user_id or caller.user_id
    if user_id is None:
        return None
    return await info.context.services.leaderboard_reads.user_zone(caller.tenant_id, user_id)


async def user_leaderboard(
    info: Info, user: User, key: str, run: date | None
) -> UserLeaderboard | None:
    """`User.leaderboard`: the user's place in the run holding `run`, else their today's."""
    caller = info.context.caller
    board = await readable_board(info, caller, key)
    if board is None:
        return None
    now = info.context.services.clock()
    chosen = views.run_for_reader(board, now, run, user.tz)
    place = await views.user_place(info.context.services.leaderboard_reads, board, user, chosen)
    return UserLeaderboard(place=place, now=now)


@strawberry.type
class LeaderboardQueries:
    @strawberry.field(
        description="One page of one run of a leaderboard. Null when no leaderboard with this "
        "key is visible to the caller."
    )
    async def leaderboard(
        self,
        info: Info,
        key: str,
        run: Annotated[
            date | None,
            strawberry.argument(
                description="Any date inside the run; defaults to the current run, else the first "
                "or the last."
            ),
        ] = None,
        offset: Annotated[
            int,
            strawberry.argument(
                description="Rows to skip, 0 or more; with aroundUserId, counted from that user's "
                "row and may be negative."
            ),
        ] = 0,
        limit: Annotated[int, strawberry.argument(description="1 to 100.")] = 10,
        around_user_id: Annotated[
            str | None,
            strawberry.argument(
                description="Page around this user: it starts offset rows after the user's own row "
                "(offset -5, limit 11 centres it). Empty when the user is not ranked."
            ),
        ] = None,
        breakdown_value: Annotated[
            str | None,
            strawberry.argument(
                description="The breakdown group; required exactly when the board has a "
                "breakdownAttribute."
            ),
        ] = None,
    ) -> LeaderboardStandings | None:
        caller = permissions.any_caller(info)
        board = await readable_board(info, caller, key)
        if board is None:
            return None
        now = info.context.services.clock()
        zone = await reader_zone(info, caller, around_user_id)
        chosen = views.run_for_reader(board, now, run, zone)
        page = await views.standings(
            info.context.services.leaderboard_reads,
            board,
            chosen,
            breakdown_value=breakdown_value,
            offset=offset,
            limit=limit,
            around_user_id=around_user_id,
        )
        return LeaderboardStandings.of(page, now)

    @strawberry.field(description="Leaderboards visible to the caller, in creation order.")
    async def leaderboards(
        self,
        info: Info,
        status: Annotated[
            list[domain.BoardStatus] | None,
            strawberry.argument(
                description="Defaults to SCHEDULED and ACTIVE; INACTIVE and ARCHIVED boards are "
                "listed to ADMIN keys only."
            ),
        ] = None,
    ) -> list[Leaderboard]:
        caller = permissions.any_caller(info)
        wanted = set(status or (domain.BoardStatus.SCHEDULED, domain.BoardStatus.ACTIVE))
        if not caller.is_admin:
            wanted -= {domain.BoardStatus.INACTIVE, domain.BoardStatus.ARCHIVED}
        now = info.context.services.clock()
        boards = await info.context.services.definitions.leaderboards(caller.tenant_id)
        return [Leaderboard.of(b, now) for b in boards if b.status(now) in wanted]


@strawberry.type
class LeaderboardMutations:
    @strawberry.mutation(description="Created INACTIVE.")
    async def create_leaderboard(self, info: Info, input: CreateLeaderboardInput) -> Leaderboard:
        caller = permissions.admin(info)
        services = info.context.services
        now = services.clock()
        board = await admin.create_board(
            services.leaderboards, caller.tenant_id, input.to_domain(), now
        )
        services.definitions.forget_leaderboards(caller.tenant_id)
        return Leaderboard.of(board, now)

    @strawberry.mutation(
        description="Change a leaderboard (see UpdateLeaderboardInput for what may change when)."
    )
    async def update_leaderboard(
        self, info: Info, key: str, input: UpdateLeaderboardInput
    ) -> Leaderboard:
        caller = permissions.admin(info)
        services = info.context.services
        now = services.clock()
        board = await admin.update_board(
            services.leaderboards, caller.tenant_id, key, input.to_domain(), now
        )
        services.definitions.forget_leaderboards(caller.tenant_id)
        services.wake_leaderboard_clock()
        return Leaderboard.of(board, now)

    @strawberry.mutation(
        description="Transitions per LeaderboardStatus; FINISHED on request closes and "
        "finalises the current run at once."
    )
    async def set_leaderboard_status(
        self, info: Info, key: str, status: domain.BoardStatus
    ) -> Leaderboard:
        caller = permissions.admin(info)
        services = info.context.services
        now = services.clock()
        board = await admin.set_status(services.leaderboards, caller.tenant_id, key, status, now)
        services.definitions.forget_leaderboards(caller.tenant_id)
        services.wake_leaderboard_clock()
        return Leaderboard.of(board, now)
