// `docker import --change` instructions and the config of an imported rootfs.
#include "image_store/config_changes.hpp"

#include <knast/error.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using knast::ContainerConfig;
using knast::Error;
using knast::ErrorCode;
using knast::detail::apply_changes;
using testing::ElementsAre;
using testing::HasSubstr;
using Strings = std::vector<std::string>;

ContainerConfig changed(const Strings& changes) {
  ContainerConfig config;
  apply_changes(config, changes);
  return config;
}

Error change_error(const Strings& changes) {
  try {
    (void)changed(changes);
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "accepted " << changes.back();
  return Error(ErrorCode::ok, "");
}

TEST(ConfigChanges, CmdJsonAndShellForms) {
  EXPECT_EQ(changed({R"(CMD ["nginx", "-g", "daemon off;"])"}).cmd, (Strings{"nginx", "-g", "daemon off;"}));
  EXPECT_EQ(changed({"CMD echo \"hi there\" && ls"}).cmd, (Strings{"/bin/sh", "-c", "echo \"hi there\" && ls"}));
  // Not an array of strings: docker takes the whole text as a shell command.
  EXPECT_EQ(changed({"CMD [1, 2]"}).cmd, (Strings{"/bin/sh", "-c", "[1, 2]"}));
  EXPECT_EQ(changed({"CMD [\"unterminated\""}).cmd, (Strings{"/bin/sh", "-c", "[\"unterminated\""}));
  EXPECT_EQ(changed({"CMD []"}).cmd, Strings{});
  EXPECT_EQ(changed({"  cmd   sh  "}).cmd, (Strings{"/bin/sh", "-c", "sh"}));
}

TEST(ConfigChanges, EntrypointFormsAndClearing) {
  EXPECT_EQ(changed({"ENTRYPOINT /bin/app --serve"}).entrypoint, (Strings{"/bin/sh", "-c", "/bin/app --serve"}));
  EXPECT_EQ(changed({R"(ENTRYPOINT ["/bin/app"])"}).entrypoint, Strings{"/bin/app"});
  EXPECT_EQ(changed({R"(ENTRYPOINT ["/bin/app"])", "ENTRYPOINT []"}).entrypoint, std::nullopt);
}

TEST(ConfigChanges, EnvPairsQuotesAndEscapes) {
  const auto c = changed({R"(ENV A=b C="d e" F='g $A' H=i\ j K=)"});
  EXPECT_THAT(c.env, ElementsAre("A=b", "C=d e", "F=g $A", "H=i j", "K="));
}

TEST(ConfigChanges, EnvLegacyFormTakesTheRestOfTheLine) {
  EXPECT_THAT(changed({"ENV GREETING hello   big world"}).env, ElementsAre("GREETING=hello   big world"));
}

TEST(ConfigChanges, EnvReplacesAndExpands) {
  const auto c = changed({"ENV PATH=/bin", "ENV HOME=/root", "ENV PATH=$PATH:/usr/bin DIR=${HOME}/x"});
  EXPECT_THAT(c.env, ElementsAre("PATH=/bin:/usr/bin", "HOME=/root", "DIR=/root/x"));
}

TEST(ConfigChanges, EnvValuesSeeVariablesAsBeforeTheInstruction) {
  // docker: `ENV abc=bye def=$abc` after `ENV abc=hello` gives def=hello.
  EXPECT_THAT(changed({"ENV abc=hello", "ENV abc=bye def=$abc"}).env, ElementsAre("abc=bye", "def=hello"));
}

TEST(ConfigChanges, SubstitutionModifiers) {
  const auto c = changed({"ENV SET=x EMPTY=", R"(ENV A=${UNSET:-dflt} B=${EMPTY:-dflt} C=${EMPTY-dflt} D=${SET:+alt} E=${UNSET:+alt} F="$SET" G='$SET' H=\$SET I=a$)"});
  EXPECT_THAT(c.env, ElementsAre("SET=x", "EMPTY=", "A=dflt", "B=dflt", "C=", "D=alt", "E=", "F=x", "G=$SET", "H=$SET",
                                 "I=a$"));
  EXPECT_THAT(change_error({R"(ENV A="${UNSET:?must be set}")"}).what(), HasSubstr("UNSET: must be set"));
  EXPECT_THAT(change_error({"ENV A=${X/a/b}"}).what(), HasSubstr("unsupported substitution"));
  EXPECT_THAT(change_error({"ENV A=${X"}).what(), HasSubstr("missing '}'"));
}

TEST(ConfigChanges, LabelsWithQuotesAndLegacyForm) {
  const auto c = changed({R"(LABEL "com.example.vendor"="ACME Inc" version=1.0 description="a \"quoted\" word")",
                          "LABEL maintainer someone@example.com"});
  EXPECT_EQ(c.labels, (std::map<std::string, std::string>{{"com.example.vendor", "ACME Inc"},
                                                           {"version", "1.0"},
                                                           {"description", "a \"quoted\" word"},
                                                           {"maintainer", "someone@example.com"}}));
}

TEST(ConfigChanges, ExposeNormalisesProtocolsAndRanges) {
  EXPECT_THAT(changed({"EXPOSE 80 53/udp", "expose 8000-8002/TCP 80/tcp"}).exposed_ports,
              ElementsAre("53/udp", "80/tcp", "8000/tcp", "8001/tcp", "8002/tcp"));
  EXPECT_THAT(changed({"ENV PORT=9000", "EXPOSE $PORT/sctp"}).exposed_ports, ElementsAre("9000/sctp"));
}

TEST(ConfigChanges, ExposeRefusesMalformedPorts) {
  for (const auto* bad : {"EXPOSE http", "EXPOSE 80/icmp", "EXPOSE 90-80", "EXPOSE 70000", "EXPOSE 1.2.3.4:80",
                          "EXPOSE", "EXPOSE -80"}) {
    const auto e = change_error({bad});
    EXPECT_EQ(e.kind(), ErrorCode::invalid_argument) << bad;
    EXPECT_THAT(e.what(), HasSubstr(std::string("change \"") + bad + "\": EXPOSE: ")) << bad;
  }
}

TEST(ConfigChanges, UserWorkdirVolumeStopSignal) {
  const auto c = changed({"USER 1000:1000", "WORKDIR /srv", "WORKDIR app", "WORKDIR ../data/./x",
                          R"(VOLUME ["/data", "/logs"])", "VOLUME /cache /data", "STOPSIGNAL SIGRTMIN+3"});
  EXPECT_EQ(c.user, "1000:1000");
  EXPECT_EQ(c.working_dir, "/srv/data/x");
  EXPECT_THAT(c.volumes, ElementsAre("/cache", "/data", "/logs"));
  EXPECT_EQ(c.stop_signal, "SIGRTMIN+3");
  EXPECT_EQ(changed({"WORKDIR app"}).working_dir, "/app");
  EXPECT_EQ(changed({"ENV BASE=/opt", "WORKDIR $BASE/tool"}).working_dir, "/opt/tool");
}

TEST(ConfigChanges, UnknownInstructionsAreNamed) {
  for (const auto* bad : {"RUN apt-get update", "FROM scratch", "HEALTHCHECK NONE", "ONBUILD RUN x", "nonsense"}) {
    const auto e = change_error({bad});
    EXPECT_EQ(e.kind(), ErrorCode::invalid_argument);
    const std::string keyword(std::string_view(bad).substr(0, std::string_view(bad).find(' ')));
    EXPECT_THAT(e.what(), HasSubstr("unknown or unsupported instruction \"" + keyword + "\"")) << bad;
    EXPECT_THAT(e.what(), HasSubstr("CMD, ENTRYPOINT, ENV"));
  }
  EXPECT_THAT(change_error({""}).what(), HasSubstr("unknown or unsupported instruction \"\""));
}

TEST(ConfigChanges, MalformedArgumentsAreNamed) {
  EXPECT_STREQ(change_error({"ENV ONLYNAME"}).what(),
               "change \"ENV ONLYNAME\": ENV: needs a value: NAME=value (or the legacy NAME value)");
  EXPECT_THAT(change_error({"ENV A=1 B"}).what(), HasSubstr("cannot find '=' in \"B\""));
  EXPECT_THAT(change_error({"ENV =x"}).what(), HasSubstr("names must not be empty"));
  EXPECT_THAT(change_error({"LABEL a=\"open"}).what(), HasSubstr("unterminated double quote"));
  EXPECT_THAT(change_error({"LABEL a='open"}).what(), HasSubstr("unterminated single quote"));
  EXPECT_THAT(change_error({"USER"}).what(), HasSubstr("USER: requires an argument"));
  EXPECT_THAT(change_error({"CMD"}).what(), HasSubstr("CMD: requires an argument"));
  EXPECT_THAT(change_error({"WORKDIR \"\""}).what(), HasSubstr("WORKDIR: requires an argument"));
  EXPECT_THAT(change_error({"VOLUME [\"\"]"}).what(), HasSubstr("must not be an empty string"));
  EXPECT_THAT(change_error({"STOPSIGNAL kill;now"}).what(), HasSubstr("not a signal name"));
}

TEST(ConfigChanges, LaterChangesSeeEarlierOnesAndErrorsStopAtTheFirst) {
  EXPECT_THAT(change_error({"ENV A=1", "BOGUS", "RUN x"}).what(), HasSubstr("change \"BOGUS\""));
}

TEST(Rfc3339, AcceptsDateTimesAndRefusesOthers) {
  using knast::detail::is_rfc3339;
  for (const auto* ok : {"2024-05-01T12:00:00Z", "2024-05-01t12:00:00z", "2024-05-01T12:00:00.123456789Z",
                         "2024-05-01T12:00:00+02:00", "1970-01-01T00:00:00-11:30"})
    EXPECT_TRUE(is_rfc3339(ok)) << ok;
  for (const auto* bad : {"", "2024-05-01", "2024-05-01 12:00:00Z", "2024-13-01T12:00:00Z", "2024-05-01T12:00:00",
                          "2024-05-01T12:00:00.Z", "2024-05-01T25:00:00Z", "2024-05-01T12:00:00+0200", "yesterday"})
    EXPECT_FALSE(is_rfc3339(bad)) << bad;
}

TEST(ImportConfig, BuildsPlatformCreatedHistoryAndChanges) {
  knast::ImportOptions options;
  options.platform = knast::Platform::parse("linux/arm64/v8");
  options.changes = {"CMD [\"/bin/sh\"]", "ENV A=b"};
  const auto c = knast::detail::make_import_config(options, "2030-01-02T03:04:05Z", "Imported from rootfs.tar");
  EXPECT_EQ(c.os, "linux");
  EXPECT_EQ(c.architecture, "arm64");
  EXPECT_EQ(c.variant, std::nullopt);  // arm64's v8 is the default and is dropped
  EXPECT_EQ(c.created, "2030-01-02T03:04:05Z");
  EXPECT_EQ(c.config.cmd, Strings{"/bin/sh"});
  EXPECT_THAT(c.config.env, ElementsAre("A=b"));
  ASSERT_EQ(c.history.size(), 1u);
  EXPECT_EQ(c.history[0].created, "2030-01-02T03:04:05Z");
  EXPECT_EQ(c.history[0].comment, "Imported from rootfs.tar");
  EXPECT_TRUE(c.diff_ids.empty());
}

TEST(ImportConfig, TakesTheCallersCreatedAndComment) {
  knast::ImportOptions options;
  options.platform = knast::Platform::parse("freebsd/amd64");
  options.created = "2001-02-03T04:05:06.5+01:00";
  options.comment = "base system";
  const auto c = knast::detail::make_import_config(options, "2030-01-02T03:04:05Z", "unused");
  EXPECT_EQ(c.os, "freebsd");
  EXPECT_EQ(c.created, "2001-02-03T04:05:06.5+01:00");
  EXPECT_EQ(c.history.at(0).created, c.created);
  EXPECT_EQ(c.history.at(0).comment, "base system");
}

TEST(ImportConfig, RefusesBadCreatedPlatformAndChanges) {
  const auto error_for = [](const knast::ImportOptions& options) {
    try {
      (void)knast::detail::make_import_config(options, "2030-01-02T03:04:05Z", "");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  knast::ImportOptions bad_created;
  bad_created.created = "last tuesday";
  EXPECT_THAT(error_for(bad_created), HasSubstr("created \"last tuesday\": not an RFC 3339 time"));
  knast::ImportOptions bad_platform;
  bad_platform.platform = knast::Platform{};
  EXPECT_THAT(error_for(bad_platform), HasSubstr("os and architecture are required"));
  knast::ImportOptions bad_change;
  bad_change.changes = {"COPY . /"};
  EXPECT_THAT(error_for(bad_change), HasSubstr("change \"COPY . /\": unknown or unsupported instruction \"COPY\""));
}

}  // namespace
