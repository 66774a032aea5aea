import { describe, expect, it } from 'vitest';
import {
  classifyHealth, classifyState, describeCheck, isHealthy, liveServers, parseServersState, parseStat,
  type ServersStateRow, type StatRow,
} from '../../src/proxy/runtime-parse.js';

// Captured from HAProxy 2.6.12 (Debian 12) during the proxy module's experiments.
const SHOW_STAT_2_6 = `# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,lastsess,last_chk,last_agt,qtime,ctime,rtime,ttime,agent_status,agent_code,agent_duration,check_desc,agent_desc,check_rise,check_fall,check_health,agent_rise,agent_fall,agent_health,addr,cookie,mode,algo,conn_rate,conn_rate_max,conn_tot,intercepted,dcon,dses,wrew,connect,reuse,cache_lookups,cache_hits,srv_icur,src_ilim,qtime_max,ctime_max,rtime_max,ttime_max,eint,idle_conn_cur,safe_conn_cur,used_conn_cur,need_conn_est,uweight,agg_server_status,agg_server_check_status,agg_check_status,-,ssl_sess,ssl_reused_sess,ssl_failed_handshake,h2_headers_rcvd,h2_data_rcvd,h2_settings_rcvd,h2_rst_stream_rcvd,h2_goaway_rcvd,h2_detected_conn_protocol_errors,h2_detected_strm_protocol_errors,h2_rst_stream_resp,h2_goaway_resp,h2_open_connections,h2_backend_open_streams,h2_total_connections,h2_backend_total_streams,h1_open_connections,h1_open_streams,h1_total_connections,h1_total_streams,h1_bytes_in,h1_bytes_out,h1_spliced_bytes_in,h1_spliced_bytes_out,
fe,FRONTEND,,,0,1,9985,13,1066,2176,0,0,0,,,,,OPEN,,,,,,,,,1,2,0,,,,0,0,0,6,,,,0,12,0,0,1,0,,0,6,13,,,0,0,0,0,,,,,,,,,,,,,,,,,,,,,http,,0,6,13,0,0,0,0,,,0,0,,,,,,,0,,,,,,,,,-,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,13,13,1027,2245,0,0,
be_app,app-web-v2,0,0,0,1,,5,410,915,,0,,0,0,0,0,UP,100,1,0,0,0,265,19,,1,3,2,,5,,2,0,,3,L7OK,200,0,0,5,0,0,0,0,,,,5,0,0,,,,,276,,,0,0,0,0,,,,Layer7 check passed,,2,3,4,,,,127.0.0.1:18082,,http,,,,,,,,0,5,0,,,0,0,0,0,0,0,0,0,0,0,1,100,,,,-,0,0,0,,,,,,,,,,,,,,,,,,,,,,
be_app,bad,0,0,0,0,,0,0,0,,0,,0,0,0,0,DOWN,0,1,0,1,1,1,1,,1,3,1,,0,,2,0,,0,L4CON,,0,0,0,0,0,0,0,,,,0,0,0,,,,,-1,Connection refused,,0,0,0,0,,,,Layer4 connection problem,,2,3,0,,,,127.0.0.1:18099,,http,,,,,,,,0,0,0,,,0,0,0,0,0,0,0,0,0,0,1,0,,,,-,0,0,0,,,,,,,,,,,,,,,,,,,,,,
be_app,mnt,0,0,0,0,,0,0,0,,0,,0,0,0,0,MAINT,1,1,0,,,1,,,1,3,3,,0,,2,0,,0,,,,0,0,0,0,0,0,,,,0,0,0,,,,,-1,,,0,0,0,0,,,,,,,,,,,,127.0.0.1:18081,,http,,,,,,,,0,0,0,,,0,0,0,0,0,0,0,0,0,0,0,0,,,,-,0,0,0,,,,,,,,,,,,,,,,,,,,,,
be_app,BACKEND,0,0,0,1,999,13,1066,2176,0,0,,1,0,0,0,UP,100,1,0,,2,265,25,,1,3,0,,12,,1,0,,6,,,,0,12,0,0,1,0,,,,13,0,0,0,0,0,0,271,,,0,0,1,1,,,,,,,,,,,,,,http,roundrobin,,,,,,,0,12,0,0,0,,,0,0,3,3,0,,,,,100,0,0,0,-,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,681,681,125254,14228,0,0,`;

const SHOW_SERVERS_STATE_2_6 = `1
# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port
3 be_app 2 app-web-v2 127.0.0.1 2 4 100 100 266 15 3 4 6 0 0 0 - 18082 - 0 0 - - 0
3 be_app 1 bad 127.0.0.1 0 8 0 0 2 8 2 0 6 0 0 0 - 18099 - 0 0 - - 0
3 be_app 3 mnt 127.0.0.1 0 1 0 0 2 1 0 0 2 0 0 0 - 18081 - 0 0 - - 0`;

describe('parseServersState', () => {
  const rows = parseServersState(SHOW_SERVERS_STATE_2_6);

  it('reads one row per server, columns located by the header', () => {
    expect(rows.map((r) => r.name)).toEqual(['app-web-v2', 'bad', 'mnt']);
    expect(rows[0]).toEqual({ backend: 'be_app', name: 'app-web-v2', address: '127.0.0.1', port: 18082, opState: 2, adminState: 4, userWeight: 100, checkResult: 3, checkState: 6 });
    expect(rows[1]).toMatchObject({ opState: 0, adminState: 8, userWeight: 0, checkResult: 2 });
  });

  it('reads "-" (a name that has not resolved) as no address', () => {
    const unresolved = `${SHOW_SERVERS_STATE_2_6.split('\n').slice(0, 2).join('\n')}\n3 be_app 1 hello-web-1.0.0 - 0 32 100 100 6 1 0 0 14 0 0 0 hello-web-1.0.0 80 - 0 0 - - 0`;
    expect(parseServersState(unresolved)[0]).toMatchObject({ name: 'hello-web-1.0.0', address: '', adminState: 32 });
  });

  it('tolerates columns added by later versions', () => {
    const text = '1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port srv_future\n3 be_x 1 a 10.0.0.2 2 0 100 100 5 15 3 4 6 0 0 0 - 8080 - 0 0 - - 0 7\n';
    expect(parseServersState(text)).toEqual([{ backend: 'be_x', name: 'a', address: '10.0.0.2', port: 8080, opState: 2, adminState: 0, userWeight: 100, checkResult: 3, checkState: 6 }]);
  });

  it('returns no rows for an empty backend', () => {
    expect(parseServersState('1\n# be_id be_name srv_id srv_name\n')).toEqual([]);
  });

  it.each([
    ['', /format/],
    ['No such backend.\n', /format/],
    ['1\n3 be 1 a\n', /header/],
  ])('rejects %j', (text, message) => {
    expect(() => parseServersState(text)).toThrow(message);
  });
});

describe('parseStat', () => {
  const rows = parseStat(SHOW_STAT_2_6);

  it('reads frontend, server and backend rows', () => {
    expect(rows.map((r) => `${r.proxy}/${r.name}`)).toEqual(['fe/FRONTEND', 'be_app/app-web-v2', 'be_app/bad', 'be_app/mnt', 'be_app/BACKEND']);
  });

  it.each([
    ['app-web-v2', { status: 'UP', weight: 100, sessions: 0, checkStatus: 'L7OK', checkCode: 200, checkDescription: 'Layer7 check passed', address: '127.0.0.1:18082' }],
    ['bad', { status: 'DOWN', weight: 0, checkStatus: 'L4CON', checkDescription: 'Layer4 connection problem', address: '127.0.0.1:18099' }],
    ['mnt', { status: 'MAINT', checkStatus: '', checkDescription: '' }],
  ])('server %s', (name, fields) => {
    expect(rows.find((r) => r.name === name)).toMatchObject(fields);
  });

  it('has no check code when there was no HTTP answer', () => {
    expect(rows.find((r) => r.name === 'bad')!.checkCode).toBeUndefined();
  });

  it('strips the in-progress marker of a check status', () => {
    const text = '# pxname,svname,scur,status,check_status,check_code\nbe,a,3,UP,* L7OK,200\n';
    expect(parseStat(text)[0]).toMatchObject({ sessions: 3, checkStatus: 'L7OK', checkCode: 200 });
  });

  it('has no check code while the next check runs (HAProxy shows 0 there, on 2.6 and 3.0)', () => {
    const text = '# pxname,svname,scur,status,check_status,check_code\nbe,a,0,DRAIN,* L7OK,0\n';
    expect(parseStat(text)[0]).toMatchObject({ status: 'DRAIN', checkStatus: 'L7OK' });
    expect(parseStat(text)[0]!.checkCode).toBeUndefined();
  });

  it('rejects an error reply', () => {
    expect(() => parseStat('Unknown command.\n')).toThrow(/format/);
  });
});

const row = (over: Partial<ServersStateRow>): ServersStateRow => ({ backend: 'be', name: 'a', address: '10.0.0.2', port: 80, opState: 2, adminState: 0, userWeight: 100, checkResult: 3, checkState: 6, ...over });
const stat = (over: Partial<StatRow>): StatRow => ({ proxy: 'be', name: 'a', sessions: 0, status: 'UP', weight: 100, checkStatus: 'L7OK', checkCode: 200, checkDescription: 'Layer7 check passed', address: '10.0.0.2:80', ...over });

describe('classifyState', () => {
  it.each([
    ['ready and up', row({}), stat({}), 'ready'],
    ['forced drain', row({ adminState: 0x08 }), stat({ status: 'DRAIN' }), 'drain'],
    ['forced drain while down (status says DOWN)', row({ adminState: 0x08, opState: 0 }), stat({ status: 'DOWN' }), 'drain'],
    ['weight 0 from the config file', row({ userWeight: 0 }), stat({ weight: 0 }), 'drain'],
    ['forced maint', row({ adminState: 0x01 }), stat({ status: 'MAINT' }), 'maint'],
    ['config maint (disabled keyword)', row({ adminState: 0x04, userWeight: 0 }), stat({ status: 'MAINT' }), 'maint'],
    ['stale config-maint bit on a serving runtime server', row({ adminState: 0x04 }), stat({ status: 'UP' }), 'ready'],
    ['a ready server whose name does not resolve keeps its state', row({ adminState: 0x20, address: '' }), stat({ status: 'MAINT (resolution)' }), 'ready'],
    ['a draining server whose name does not resolve keeps its state', row({ adminState: 0x28, address: '' }), stat({ status: 'MAINT (resolution)' }), 'drain'],
    ['forced maint and unresolved', row({ adminState: 0x21, address: '' }), stat({ status: 'MAINT' }), 'maint'],
    ['FQDN set from the CLI is not maintenance', row({ adminState: 0x40 }), stat({ status: 'UP' }), 'ready'],
  ] as const)('%s -> %s', (_label, r, s, expected) => {
    expect(classifyState(r, s)).toBe(expected);
  });
});

describe('classifyHealth', () => {
  it.each([
    ['passing checks, running', row({}), stat({}), 'up'],
    ['failing checks, stopped', row({ opState: 0 }), stat({ status: 'DOWN', checkStatus: 'L7STS', checkCode: 404 }), 'down'],
    ['checks just enabled', row({ opState: 0, adminState: 0x08 }), stat({ status: 'DRAIN 1/3', checkStatus: 'INI' }), 'checking'],
    ['never checked', row({ opState: 0 }), stat({ checkStatus: '' }), 'checking'],
    ['check held (disable health)', row({ checkState: 2 }), stat({ status: 'no check', checkStatus: '' }), 'held'],
    ['held, then drained (status DRAIN, no check status)', row({ adminState: 0x08, checkState: 2 }), stat({ status: 'DRAIN', checkStatus: '' }), 'held'],
    ['check stopped while down stays down', row({ opState: 0, checkState: 2 }), stat({ status: 'DOWN', checkStatus: '' }), 'down'],
    ['maintenance', row({ adminState: 0x01, opState: 0 }), stat({ status: 'MAINT', checkStatus: '' }), 'maint'],
    ['its name does not resolve', row({ adminState: 0x20, opState: 0, address: '' }), stat({ status: 'MAINT (resolution)', checkStatus: '' }), 'down'],
  ] as const)('%s -> %s', (_label, r, s, expected) => {
    expect(classifyHealth(r, s)).toBe(expected);
  });
});

describe('liveServers', () => {
  const servers = liveServers('be_app', parseServersState(SHOW_SERVERS_STATE_2_6), parseStat(SHOW_STAT_2_6));

  it('joins both replies per server of the backend', () => {
    expect(servers).toEqual([
      { name: 'app-web-v2', address: '127.0.0.1', port: 18082, state: 'ready', health: 'up', checkStatus: 'L7OK', checkCode: 200, checkDescription: 'Layer7 check passed', sessions: 0, weight: 100, status: 'UP' },
      { name: 'bad', address: '127.0.0.1', port: 18099, state: 'drain', health: 'down', checkStatus: 'L4CON', checkDescription: 'Layer4 connection problem', sessions: 0, weight: 0, status: 'DOWN' },
      { name: 'mnt', address: '127.0.0.1', port: 18081, state: 'maint', health: 'maint', checkStatus: '', checkDescription: '', sessions: 0, weight: 0, status: 'MAINT' },
    ]);
  });

  it('ignores other backends', () => {
    expect(liveServers('be_other', parseServersState(SHOW_SERVERS_STATE_2_6), parseStat(SHOW_STAT_2_6))).toEqual([]);
  });

  it('isHealthy only for a passed layer-7 check of a running server', () => {
    expect(servers.map(isHealthy)).toEqual([true, false, false]);
  });

  it.each([
    [0, 'L7OK 200 (Layer7 check passed)'],
    [1, 'L4CON (Layer4 connection problem)'],
    [2, 'in maintenance, not checked'],
  ])('describeCheck of server %i', (i, text) => {
    expect(describeCheck(servers[i]!)).toBe(text);
  });
});
