import { expect } from 'chai';
import {
  describeIdentity,
  normalizeContainerId,
  ownContainer,
  parseCgroup,
} from '../../../../src/energy/sources/own-container.js';

const ID = 'a'.repeat(8) + '0123456789abcdef'.repeat(3) + 'b'.repeat(8);
const UID = '5f1c0a3e-7b2d-4c8e-9a10-2b3c4d5e6f70';
const UID_ = UID.replaceAll('-', '_');

describe('energy/sources/own-container', () => {
  const cases: Array<
    [string, string, { containerId?: string; podUid?: string; runtime?: string }]
  > = [
    [
      'cgroup v1, Docker',
      `12:memory:/docker/${ID}\n11:cpu,cpuacct:/docker/${ID}\n1:name=systemd:/docker/${ID}\n`,
      { containerId: ID, runtime: 'docker' },
    ],
    [
      'cgroup v1, Kubernetes cgroupfs driver',
      `4:cpu,cpuacct:/kubepods/burstable/pod${UID}/${ID}\n3:memory:/kubepods/burstable/pod${UID}/${ID}\n`,
      { containerId: ID, podUid: UID },
    ],
    [
      'cgroup v1, containerd systemd driver (`:cri-containerd:` form)',
      `5:pids:/system.slice/containerd.service/kubepods-burstable-pod${UID_}.slice:cri-containerd:${ID}\n`,
      { containerId: ID, podUid: UID, runtime: 'cri-containerd' },
    ],
    [
      'cgroup v2, containerd',
      `0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${UID_}.slice/cri-containerd-${ID}.scope\n`,
      { containerId: ID, podUid: UID, runtime: 'cri-containerd' },
    ],
    [
      'cgroup v2, CRI-O (its conmon scope is not the container)',
      `0::/kubepods.slice/kubepods-pod${UID_}.slice/crio-conmon-${'c'.repeat(64)}.scope\n0::/kubepods.slice/kubepods-pod${UID_}.slice/crio-${ID}.scope\n`,
      { containerId: ID, podUid: UID, runtime: 'crio' },
    ],
    [
      'cgroup v2, Docker systemd driver',
      `0::/system.slice/docker-${ID}.scope\n`,
      { containerId: ID, runtime: 'docker' },
    ],
    [
      'cgroup v2, Podman',
      `0::/machine.slice/libpod-${ID}.scope/container\n`,
      { containerId: ID, runtime: 'libpod' },
    ],
    ['cgroup v2 with a private cgroup namespace', '0::/\n', {}],
    ['a process on the host', '0::/user.slice/user-1000.slice/session-3.scope\n', {}],
  ];
  for (const [what, text, expected] of cases) {
    it(`finds the container in ${what}`, () => {
      expect(parseCgroup(text)).to.deep.equal(expected);
    });
  }

  it('takes KEPLER_CONTAINER_ID over the cgroup, in the form kubectl prints it', () => {
    expect(normalizeContainerId(`containerd://${ID.toUpperCase()}`)).to.equal(ID);
    const id = ownContainer({
      containerId: `containerd://${ID.slice(0, 12)}`,
      readCgroup: () => `0::/system.slice/docker-${'d'.repeat(64)}.scope\n`,
    });
    expect(id.containerId).to.equal(ID.slice(0, 12));
    expect(id.from).to.deep.equal(['KEPLER_CONTAINER_ID']);
  });

  it('joins the cgroup with the downward API, saying where each part came from', () => {
    const id = ownContainer({
      pod: { name: 'web-7d9', namespace: 'shop', containerName: 'web' },
      readCgroup: () => `0::/kubepods.slice/kubepods-pod${UID_}.slice/cri-containerd-${ID}.scope\n`,
    });
    expect(id).to.deep.equal({
      containerId: ID,
      podUid: UID,
      podName: 'web-7d9',
      podNamespace: 'shop',
      containerName: 'web',
      from: ['/proc/self/cgroup (cri-containerd)', 'POD_NAME/POD_NAMESPACE'],
    });
    expect(describeIdentity(id)).to.equal(
      `container ${ID.slice(0, 12)}, pod shop/web-7d9, container name web`,
    );
  });

  it('knows nothing when there is no cgroup file and no setting', () => {
    const id = ownContainer({
      readCgroup: () => {
        throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
      },
    });
    expect(id).to.deep.equal({ from: [] });
    expect(describeIdentity(id)).to.equal('no container identity');
  });
});
